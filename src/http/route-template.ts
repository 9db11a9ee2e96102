/**
 * The route template a request matched ("/api/products/:id"), never the raw URL, or
 * undefined when no route matched. Routes are declared with their full path, so
 * req.route.path is the template wherever the request ended; the chaos middleware sets
 * req.route itself for a request it fails before routing. The request metrics' `route`
 * label and the server span's name both come from here, so they always agree.
 *
 * No imports: the tracer's start-up code reads it before Express is loaded.
 */
export function routeTemplate(req: object): string | undefined {
  const path: unknown = (req as { route?: { path?: unknown } }).route?.path;
  return typeof path === 'string' ? path : undefined;
}
