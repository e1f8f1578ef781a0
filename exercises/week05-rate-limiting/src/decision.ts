/** What a limiter answers about one request. Shared by every kata of the week. */
export interface Decision {
  /** Whether the request may go ahead. A refused request consumes nothing. */
  readonly allowed: boolean;
  /** Quota left after this decision, in request units (a token bucket may report a fraction). */
  readonly remaining: number;
  /**
   * 0 when allowed. When refused: whole milliseconds to wait before the same request can
   * succeed, or `Infinity` when waiting can never help (it costs more than the whole quota).
   */
  readonly retryAfterMs: number;
}

/** A decision that also says when the quota is whole again (what a RateLimit `t` reports). */
export interface RateLimitDecision extends Decision {
  /** Whole milliseconds until the full quota is available again; 0 when it already is. */
  readonly resetAfterMs: number;
}
