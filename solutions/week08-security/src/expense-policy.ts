// Reference solution of the authorization kata: a deny-by-default policy for expenses.

import type { Expense, ExpenseField, Role, Subject } from "./expenses";

export type Action = "expense:read" | "expense:update" | "expense:decide" | "expense:delete";

/** The actions that write fields: the two on an existing expense, and filing a new one. */
export type WriteAction = "expense:update" | "expense:decide" | "expense:create";

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly status: 403 | 404 };

const ALLOW: Decision = { allowed: true };
const FORBIDDEN: Decision = { allowed: false, status: 403 };
const NOT_FOUND: Decision = { allowed: false, status: 404 };

const has = (subject: Subject, ...roles: Role[]) => roles.some((role) => subject.roles.includes(role));
const ownsAsMember = (subject: Subject, expense: Expense) =>
  has(subject, "member") && expense.ownerId === subject.userId;

/** Whether the subject may know the expense exists at all. Only ever true inside its tenant. */
function maySee(subject: Subject, expense: Expense): boolean {
  if (expense.tenantId !== subject.tenantId) return false;
  return ownsAsMember(subject, expense) || has(subject, "approver", "admin", "auditor");
}

// One rule per action, each read as "allowed when". An action without a rule is denied.
const RULES: Record<Action, (subject: Subject, expense: Expense) => boolean> = {
  "expense:read": () => true,
  "expense:update": (s, e) => ownsAsMember(s, e) && e.status === "draft",
  "expense:decide": (s, e) => has(s, "approver", "admin") && e.ownerId !== s.userId,
  "expense:delete": (s, e) => has(s, "admin") || (ownsAsMember(s, e) && e.status === "draft"),
};

/** Whether subject may perform action on expense; deny by default. */
export function authorize(subject: Subject, action: Action, expense: Expense): Decision {
  // Existence first: a 403 here would confirm to another tenant that the id is real.
  if (!maySee(subject, expense)) return NOT_FOUND;
  const rule = Object.hasOwn(RULES, action) ? RULES[action] : undefined;
  return rule?.(subject, expense) ? ALLOW : FORBIDDEN;
}

/** Whether subject may file a new expense in their tenant (members only). */
export function mayCreate(subject: Subject): boolean {
  return has(subject, "member");
}

const BASE_FIELDS: readonly ExpenseField[] = [
  "id",
  "tenantId",
  "ownerId",
  "description",
  "amountCents",
  "status",
  "reviewerNote",
  "createdAt",
];
const WITH_RISK: readonly ExpenseField[] = [...BASE_FIELDS, "riskScore"];

/** The fields of expense that subject may see. Call it only after authorize(read) allowed. */
export function readableFields(subject: Subject, _expense: Expense): readonly ExpenseField[] {
  return has(subject, "approver", "admin", "auditor") ? WITH_RISK : BASE_FIELDS;
}

const WRITABLE: Record<WriteAction, readonly ExpenseField[]> = {
  "expense:update": ["description", "amountCents"],
  "expense:decide": ["status", "reviewerNote"],
  "expense:create": ["description", "amountCents"],
};

/** The fields an action may write: update, decide, or create (a new expense). */
export function writableFields(action: WriteAction): readonly ExpenseField[] {
  return Object.hasOwn(WRITABLE, action) ? WRITABLE[action] : [];
}

/** The expense as subject may see it: only readableFields(). */
export function viewOf(subject: Subject, expense: Expense): Partial<Expense> {
  // Built from the allow-list, so a field added to Expense tomorrow stays hidden until granted.
  const view: Record<string, unknown> = {};
  for (const field of readableFields(subject, expense)) view[field] = expense[field];
  return view as Partial<Expense>;
}
