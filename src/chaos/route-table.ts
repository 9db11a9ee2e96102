import type { Request, Router } from 'express';

interface RouteEntry {
  template: string;
  /** Lower-case methods; undefined = the route answers every method (router.all). */
  methods?: Set<string>;
  pattern: RegExp;
}

/** The parts of Express' router stack read here (public on app.router in Express 5). */
interface StackLayer {
  route?: { path: unknown; methods?: Record<string, boolean | undefined> };
  handle: unknown;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Only `:param` segments are understood: the service declares no other kind. Anything
 * else (wildcards, optional groups) is left out, so such a route is never faulted.
 */
function compileTemplate(template: string): RegExp | undefined {
  if (/[*{}()?+]/.test(template)) return undefined;
  const source = template
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : escapeRegExp(segment)))
    .join('/');
  // Express routes are case-insensitive and tolerate one trailing slash by default.
  return new RegExp(`^${source}/?$`, 'i');
}

function collect(stack: readonly StackLayer[], out: RouteEntry[]): void {
  for (const layer of stack) {
    if (layer.route && typeof layer.route.path === 'string') {
      const pattern = compileTemplate(layer.route.path);
      if (!pattern) continue;
      const methods = layer.route.methods ?? {};
      out.push({
        template: layer.route.path,
        methods: methods._all ? undefined : new Set(Object.keys(methods).filter((m) => methods[m])),
        pattern,
      });
    } else {
      // A Router mounted with app.use(router): its routes carry their full paths.
      const nested = (layer.handle as { stack?: unknown } | undefined)?.stack;
      if (Array.isArray(nested)) collect(nested as StackLayer[], out);
    }
  }
}

/**
 * Finds the route template a request will reach, before routing has run. Request
 * faults need it to stay inside the API's routes and so that an injected 500 is
 * counted under its real route (not "unmatched") on the RED dashboard.
 */
export class RouteTable {
  private entries: RouteEntry[] | undefined;

  templateOf(req: Request): string | undefined {
    // Built on first use: every router is mounted by the time a request arrives.
    this.entries ??= RouteTable.from(req.app.router);
    const method = req.method === 'HEAD' ? 'get' : req.method.toLowerCase();
    for (const e of this.entries) {
      if ((!e.methods || e.methods.has(method)) && e.pattern.test(req.path)) return e.template;
    }
    return undefined;
  }

  static from(router: Router): RouteEntry[] {
    const out: RouteEntry[] = [];
    collect(router.stack as StackLayer[], out);
    return out;
  }
}
