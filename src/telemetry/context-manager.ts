import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Context } from '@opentelemetry/api';
import { IncomingMessage, ServerResponse } from 'node:http';

const boundContext = Symbol('cloudmart.boundContext');

type Emit = (this: BindableMessage, event: string | symbol, ...args: unknown[]) => boolean;
type BindableMessage = (IncomingMessage | ServerResponse) & { [boundContext]?: Context };
interface Prototype {
  emit: Emit;
}

/**
 * The SDK's AsyncLocalStorage context manager, with one cheaper way to bind the
 * request and the response of an HTTP server to the request's context.
 *
 * Why: the http instrumentation binds both, for every request. The stock manager binds an
 * emitter by replacing its eight listener methods (addListener, on, once, the two prepends,
 * removeListener, off, removeAllListeners) with per-instance closures and giving it a patch
 * map, and wraps each listener added later in another closure (with an
 * Object.defineProperty per listener). That is 16 closures and 18 new own properties per
 * request, on objects whose shape Node's HTTP internals read on every write; in the bench's
 * CPU profiles it was the largest single cost of tracing a request that records nothing
 * (`OTEL_TRACES_SAMPLER=always_off`).
 *
 * Here the context is one property on the message, and IncomingMessage's and
 * ServerResponse's emit run the listeners in it. Listeners see the same context as with
 * the stock binding: the request body's 'data'/'end' listeners (which is how Express
 * continues after a body parser) and the response's 'finish'/'close' listeners (where the
 * instrumentation reads the route and ends the span) run in the request's context, not in
 * the connection's. Other emitters are bound as before.
 */
export class HttpMessageContextManager extends AsyncLocalStorageContextManager {
  private restore: (() => void) | undefined;

  override bind<T>(context: Context, target: T): T {
    if (target instanceof IncomingMessage || target instanceof ServerResponse) {
      (target as BindableMessage)[boundContext] = context;
      return target;
    }
    return super.bind(context, target);
  }

  override enable(): this {
    super.enable();
    if (!this.restore) this.restore = patchEmit(this, [IncomingMessage.prototype, ServerResponse.prototype]);
    return this;
  }

  override disable(): this {
    this.restore?.();
    this.restore = undefined;
    return super.disable();
  }
}

function patchEmit(manager: AsyncLocalStorageContextManager, prototypes: Prototype[]): () => void {
  const originals = prototypes.map((proto) => {
    // The prototype chain's emit (EventEmitter's), unless a subclass has its own.
    const original = proto.emit;
    const hadOwn = Object.prototype.hasOwnProperty.call(proto, 'emit');
    proto.emit = function emit(this: BindableMessage, ...args: Parameters<Emit>): boolean {
      const context = this[boundContext];
      if (context === undefined) return original.apply(this, args);
      return manager.with(context, () => original.apply(this, args));
    };
    return { proto, original, hadOwn };
  });
  return () => {
    for (const { proto, original, hadOwn } of originals) {
      if (hadOwn) proto.emit = original;
      else delete (proto as Partial<Prototype>).emit;
    }
  };
}
