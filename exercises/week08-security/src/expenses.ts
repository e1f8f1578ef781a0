// The domain of the authorization kata: expense claims in a multi-tenant API. Given and complete.
//
// The store is deliberately tenant-blind, like a table with a tenant_id column: it returns
// any row by id. Keeping tenants apart is the policy's job, on every read and every write.

import { randomUUID } from "node:crypto";
import { z } from "zod";

/**
 * Roles add up; a subject may hold several.
 * - member: an employee: files expenses, and edits or deletes their own drafts;
 * - approver: reads every expense of the tenant and decides submitted ones (not their own);
 * - admin: what an approver may, and deletes any expense of the tenant;
 * - auditor: reads every expense of the tenant, risk score included; changes nothing.
 */
export const ROLES = ["member", "approver", "admin", "auditor"] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: set by authentication, never taken from the request body. */
export interface Subject {
  readonly userId: string;
  readonly tenantId: string;
  /** Anything not in ROLES grants nothing. */
  readonly roles: readonly string[];
}

export type ExpenseStatus = "draft" | "submitted" | "approved" | "rejected";

export interface Expense {
  readonly id: string;
  readonly tenantId: string;
  readonly ownerId: string;
  readonly description: string;
  readonly amountCents: number;
  readonly status: ExpenseStatus;
  /** The approver's note on a decision. */
  readonly reviewerNote: string | null;
  /** Internal fraud score, 0-100: for approvers, admins and auditors only. */
  readonly riskScore: number;
  /** ISO 8601. */
  readonly createdAt: string;
}

export type ExpenseField = keyof Expense;
export const EXPENSE_FIELDS: readonly ExpenseField[] = [
  "id",
  "tenantId",
  "ownerId",
  "description",
  "amountCents",
  "status",
  "reviewerNote",
  "riskScore",
  "createdAt",
];

/**
 * The shape of a request body that writes an expense: every field of Expense, each optional
 * and with its type, and nothing else (an unknown key is a 400). Which of them the subject
 * may actually write is the policy's question, not this schema's.
 */
export const expenseWriteSchema = z.strictObject({
  id: z.string().optional(),
  tenantId: z.string().optional(),
  ownerId: z.string().optional(),
  description: z.string().min(1).max(500).optional(),
  amountCents: z.int().min(1).max(100_000_000).optional(),
  status: z.enum(["draft", "submitted", "approved", "rejected"]).optional(),
  reviewerNote: z.string().max(2000).nullable().optional(),
  riskScore: z.int().min(0).max(100).optional(),
  createdAt: z.string().optional(),
});
export type ExpenseWrite = z.infer<typeof expenseWriteSchema>;

/** The fraud score the back office computes for a new expense. */
export function riskScoreFor(amountCents: number): number {
  return Math.min(100, Math.round(amountCents / 10_000));
}

/** An in-memory expense table. Tenant-blind on purpose. Returns copies, never its own rows. */
export class ExpenseStore {
  readonly #rows = new Map<string, Expense>();

  constructor(seed: readonly Expense[] = []) {
    for (const expense of seed) this.#rows.set(expense.id, { ...expense });
  }

  get(id: string): Expense | undefined {
    const row = this.#rows.get(id);
    return row && { ...row };
  }

  /** Every expense of every tenant, oldest first. */
  all(): Expense[] {
    return [...this.#rows.values()].map((row) => ({ ...row }));
  }

  insert(expense: Expense): Expense {
    if (this.#rows.has(expense.id)) throw new Error(`duplicate expense id ${expense.id}`);
    this.#rows.set(expense.id, { ...expense });
    return { ...expense };
  }

  update(id: string, changes: Partial<Omit<Expense, "id">>): Expense {
    const row = this.#rows.get(id);
    if (!row) throw new Error(`no expense ${id}`);
    const updated = { ...row, ...changes, id };
    this.#rows.set(id, updated);
    return { ...updated };
  }

  delete(id: string): boolean {
    return this.#rows.delete(id);
  }
}

/** A new id for an expense. */
export const newExpenseId = (): string => `exp_${randomUUID()}`;
