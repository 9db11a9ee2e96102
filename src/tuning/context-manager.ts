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
 * The SDK's AsyncLocalStorageContextManager, with a cheaper way to bind an HTTP request
 * and response to the request's context. The stock bind replaces eight listener methods
 * per emitter with closures and wraps every later listener (16 closures and 18 own
 * properties per request, the largest cost of tracing a request that records nothing:
 * docs/benchmark.md). Here the context is one property on the message, and the
 * prototypes' emit runs listeners in it, so 'data'/'end' on the request and
 * 'finish'/'close' on the response see the request's context, as with the stock binding.
 * Other emitters are bound the stock way.
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
