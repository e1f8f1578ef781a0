// Kata: authorization
//
// OWASP's API Security Top 10 starts with broken object-level authorization: the route
// checks that you are logged in, then serves /expenses/42 to whoever asks. Build the policy
// layer of a multi-tenant expense API, as pure functions the routes call on every request:
// - authorize(subject, action, expense): deny by default. Allow only what a rule grants:
//     read     the owner (with the member role), or any approver, admin or auditor;
//     update   the owner (member), while the expense is a draft;
//     decide   an approver or admin, but never on their own expense (segregation of duties);
//     delete   the owner (member) while it is a draft, or an admin.
//   Every rule holds only inside the subject's own tenant. An unknown action or role grants
//   nothing.
// - 404 or 403, chosen on purpose: when the subject may not even read the expense (another
//   tenant's, or a colleague's as a plain member), the answer is 404, exactly as for an id
//   that does not exist, so ids cannot be probed. When they may read it but not do this
//   action, the answer is 403.
// - Property-level authorization (OWASP API3): readableFields() is what the subject may see
//   (riskScore only for approvers, admins and auditors); writableFields() is what the action
//   may change: update writes description and amountCents, decide writes status and
//   reviewerNote, create writes description and amountCents. Nothing ever writes id,
//   tenantId, ownerId, riskScore or createdAt.
//
// Tests: tests/authorization.test.ts (npm run check week8 authorization).
// Keep the exported names and signatures: the tests import them.

import { NotImplementedError } from "#kata";
import type { Expense, ExpenseField, Subject } from "./expenses";

export type Action = "expense:read" | "expense:update" | "expense:decide" | "expense:delete";

/** The actions that write fields: the two on an existing expense, and filing a new one. */
export type WriteAction = "expense:update" | "expense:decide" | "expense:create";

/** allowed, or denied with the status the API must answer. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly status: 403 | 404 };

/** Whether subject may perform action on expense; deny by default. */
export function authorize(subject: Subject, action: Action, expense: Expense): Decision {
  // TODO: tenant first, then "may they know it exists?" (404), then the action's rule (403).
  throw new NotImplementedError("authorization");
}

/** Whether subject may file a new expense in their tenant (members only). */
export function mayCreate(subject: Subject): boolean {
  // TODO: the member role.
  throw new NotImplementedError("authorization");
}

/** The fields of expense that subject may see. Call it only after authorize(read) allowed. */
export function readableFields(subject: Subject, expense: Expense): readonly ExpenseField[] {
  // TODO: every field, riskScore only for approver, admin or auditor.
  throw new NotImplementedError("authorization");
}

/** The fields an action may write: update, decide, or create (a new expense). */
export function writableFields(action: WriteAction): readonly ExpenseField[] {
  // TODO: an allow-list per action; everything else is read-only.
  throw new NotImplementedError("authorization");
}

/** The expense as subject may see it: only readableFields(). */
export function viewOf(subject: Subject, expense: Expense): Partial<Expense> {
  // TODO: copy the readable fields into a new object.
  throw new NotImplementedError("authorization");
}
