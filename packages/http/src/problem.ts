/** RFC 9457 problem details, as every FitLedger service answers errors. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /** Stable machine-readable code (DomainError and store codes, VALIDATION_FAILED, ...). */
  readonly code: string;
  /** Field-level errors; `field` is a JSON pointer into the request part (e.g. /body/sets/0/reps). */
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
  readonly instance?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The problem `type` URI of a stable error code (`TOKEN_EXPIRED` → …/problems/token-expired). */
export function problemType(code: string): string {
  return `https://fitledger.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/** An error that already knows its HTTP answer. Throw it from handlers; the error handler renders it. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail?: string,
    readonly errors?: Problem['errors'],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }

  toProblem(): Problem {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** JSON schema of a problem body, for route `response` sections and the OpenAPI document. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;
