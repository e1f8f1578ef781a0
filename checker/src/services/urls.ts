/** The URL with its password replaced by ***, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    // Not a URL the WHATWG parser accepts: mask anything that looks like user:password@.
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

/** host:port of a URL, with the scheme's default port when it has none. */
export function hostPort(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || defaultPort}`;
  } catch {
    return redactUrl(url);
  }
}
