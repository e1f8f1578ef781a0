/** What a promise rejected with, or a marker that it resolved: so a failure message can say which. */
export async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    return { resolvedInsteadOfRejecting: value };
  } catch (error) {
    return error;
  }
}
