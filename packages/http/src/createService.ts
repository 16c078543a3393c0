import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Ajv, { type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import { context } from '@opentelemetry/api';
import { endServerSpan, startServerSpan } from '@fitledger/observability';
import type { Span } from '@opentelemetry/api';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { HttpProblem, PROBLEM_CONTENT_TYPE, problemSchema, type Problem } from './problem';

/** Turns an error the service knows about into an HTTP problem; undefined lets the next mapper try. */
export type ErrorMapper = (error: unknown) => HttpProblem | undefined;

export interface ServiceOptions {
  readonly logger?: FastifyServerOptions['loggerInstance'];
  /** Largest accepted request body in bytes (default 64 KiB). */
  readonly bodyLimit?: number;
  readonly errorMappers?: readonly ErrorMapper[];
  /** Extra readiness checks for /readyz; each resolves or throws. */
  readonly readinessChecks?: readonly (() => Promise<void>)[];
  readonly trustProxy?: boolean;
  /** Publishes the routes' schemas as OpenAPI 3 at /openapi.json and a UI at /docs. */
  readonly openapi?: { readonly title: string; readonly version: string; readonly description?: string };
}

// discriminator: a oneOf keyed by a tag property (e.g. a measurement's `metric`) reports the errors of the matching branch only.
const ajvCommon: AjvOptions = { allErrors: false, strict: true, useDefaults: true, removeAdditional: false, $data: false, discriminator: true };

/**
 * A fastify instance with FitLedger's HTTP conventions: bodies validated strictly (unknown fields
 * and wrong types are rejected, never stripped or coerced), query strings and params coerced from
 * text, RFC 9457 problem+json for every error, body size limit, request ids, health probes.
 */
export function createService(options: ServiceOptions = {}): FastifyInstance {
  const serverOptions: FastifyServerOptions = {
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
  };
  const app: FastifyInstance = options.logger ? Fastify({ ...serverOptions, loggerInstance: options.logger }) : Fastify({ ...serverOptions, logger: false });

  const bodyAjv = new Ajv({ ...ajvCommon, coerceTypes: false });
  const textAjv = new Ajv({ ...ajvCommon, coerceTypes: 'array' });
  addFormats(bodyAjv);
  addFormats(textAjv);
  // OpenAPI annotations that are not JSON Schema keywords.
  for (const ajv of [bodyAjv, textAjv]) ajv.addKeyword({ keyword: 'example' }).addKeyword({ keyword: 'hide' });
  for (const ajv of [bodyAjv, textAjv]) ajv.addSchema(problemSchema);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  app.addSchema(problemSchema);

  if (options.openapi) {
    void app.register(swagger, {
      openapi: {
        info: { title: options.openapi.title, version: options.openapi.version, description: options.openapi.description ?? '' },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearerAuth: [] }],
      },
    });
    void app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  }

  // One server span per request, continuing an incoming traceparent; the rest of the request runs
  // with it active, so commands can carry its traceparent into event metadata.
  const spans = new WeakMap<object, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.traceparent;
    const { span, ctx } = startServerSpan(request.method, request.routeOptions.url ?? 'unmatched', typeof header === 'string' ? header : undefined);
    spans.set(request, span);
    context.with(ctx, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) endServerSpan(span, reply.statusCode);
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  const mappers = options.errorMappers ?? [];
  app.setErrorHandler((error: unknown, request, reply) => {
    const problem = toHttpProblem(error, mappers);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
    return sendProblem(reply, problem, request.url);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new HttpProblem(404, 'NOT_FOUND', 'Not Found', 'no such resource'), request.url));

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await Promise.all((options.readinessChecks ?? []).map((check) => check()));
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not ready' });
    }
  });
  return app;
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem, url?: string): FastifyReply {
  const body: Problem = { ...problem.toProblem(), ...(url ? { instance: url.split('?')[0] } : {}) };
  for (const [k, v] of Object.entries(problem.headers ?? {})) reply.header(k, v);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

function toHttpProblem(error: unknown, mappers: readonly ErrorMapper[]): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const fe = error as Partial<FastifyError> & { validation?: { instancePath: string; message?: string; params?: Record<string, unknown>; keyword: string }[]; validationContext?: string };
  if (fe.validation) {
    const part = fe.validationContext ?? 'body';
    const errors = fe.validation.map((v) => {
      const extra = v.keyword === 'additionalProperties' ? `/${String(v.params?.additionalProperty)}` : v.keyword === 'required' ? `/${String(v.params?.missingProperty)}` : '';
      const field = `/${part}${v.instancePath}${extra}`;
      return { field, message: v.keyword === 'additionalProperties' ? 'unknown field' : (v.message ?? 'invalid') };
    });
    const first = errors[0];
    return new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', first ? `${first.field}: ${first.message}` : 'invalid request', errors);
  }
  switch (fe.code ?? '') {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(413, 'BODY_TOO_LARGE', 'Content Too Large', 'the request body exceeds the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem(400, 'MALFORMED_JSON', 'Bad Request', 'the JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem(400, 'MALFORMED_JSON', 'Bad Request', 'the body is not valid JSON');
    default:
      break;
  }
  // The service's own errors after fastify's: a body-too-large error is also a RangeError, say.
  for (const map of mappers) {
    const mapped = map(error);
    if (mapped) return mapped;
  }
  if (error instanceof SyntaxError || fe.statusCode === 400) return new HttpProblem(400, 'MALFORMED_JSON', 'Bad Request', 'the body is not valid JSON');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new HttpProblem(fe.statusCode, fe.code ?? 'BAD_REQUEST', 'Bad Request', 'the request was refused');
  }
  return new HttpProblem(500, 'INTERNAL', 'Internal Server Error', 'an unexpected error occurred');
}
