import express, { type RequestHandler } from 'express';
import { refuseAnnouncedOversize } from './middleware/body-limit';
import { requireJson } from './middleware/errors';

/** The API's limit for a JSON body, in bytes: 100 kB. */
export const BODY_LIMIT = 100 * 1024;

/** A JSON body of at most `limitBytes`: the content type checked, an announced excess refused unread, then parsed. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [requireJson, refuseAnnouncedOversize(limitBytes), express.json({ limit: limitBytes, strict: true })];
}
