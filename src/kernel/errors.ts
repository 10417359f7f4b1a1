/**
 * The closed catalogue of errors the service answers with. Every code is listed
 * in docs/errors.md (checked by test/docs-consistency.test.ts). Services throw these;
 * the single error handler in src/transports/http/error-handler.ts renders them as
 * `{"error": {"code", "message"}}` with the status below.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  INVALID_ENCODING: 400,
  INVALID_PAGE_SIZE: 400,
  INVALID_PAGE_TOKEN: 400,
  INVALID_SIGNATURE: 403,
  NO_SENDER_ADDRESS: 403,
  CUSTOMER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_LOCATION: 422,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code];
  }
}

export const customerNotFound = (customerId: string) =>
  new AppError('CUSTOMER_NOT_FOUND', `No customer with id "${customerId}" is visible to this worker`);
