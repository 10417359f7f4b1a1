/**
 * The closed catalogue of errors the service answers with. Every code is listed
 * in docs/errors.md (checked by test/docs-consistency.test.ts). Services throw these;
 * the single error handler in src/transports/http/error-handler.ts renders them as
 * `{"error": {"code", "message"}}` with the status below.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  INVALID_FIELDS: 400,
  IMPORT_REJECTED: 400,
  INVALID_ENCODING: 400,
  INVALID_PAGE_SIZE: 400,
  INVALID_PAGE_TOKEN: 400,
  UNAUTHORIZED: 401,
  INVALID_SIGNATURE: 403,
  READ_ONLY_TOKEN: 403,
  NO_SENDER_ADDRESS: 403,
  CUSTOMER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  BODY_TOO_LARGE: 413,
  URL_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_LOCATION: 422,
  HEADERS_TOO_LARGE: 431,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * One bad piece of input, in the import's shape: where (`line 3`, `body`, `query`, `path`),
 * which field (`channels[0].value`), and what is wrong with it.
 */
export interface ReportedProblem {
  position?: string;
  field?: string;
  message: string;
}

export class AppError extends Error {
  readonly statusCode: number;
  /** Every bad field, for INVALID_FIELDS and IMPORT_REJECTED. */
  readonly problems: ReportedProblem[] | undefined;
  /** All problems found, when `problems` holds only the first of them. */
  readonly totalProblems: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; problems?: ReportedProblem[]; totalProblems?: number },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code];
    this.problems = options?.problems;
    this.totalProblems = options?.totalProblems;
  }
}

export const customerNotFound = (customerId: string) =>
  new AppError('CUSTOMER_NOT_FOUND', `No customer with id "${customerId}" is visible to this worker`);
