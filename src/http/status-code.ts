import { STATUS_CODES } from 'node:http';

/** The status's reason phrase, e.g. 'Bad Request'. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
}

/** 'Bad Request' → 'BAD_REQUEST': an error code as stable as the status it names. */
export function statusCodeName(status: number): string {
  return statusText(status)
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
}
