/**
 * The probe endpoints of the week's service. The health-probes kata serves them, the
 * k8s-manifests kata points the kubelet at them, and the dockerfile kata documents them.
 */
export const PROBE_PATHS = {
  /** Is the process alive? Checks nothing else; a failure gets the container restarted. */
  liveness: "/livez",
  /** Should traffic come here? Checks dependencies; a failure takes the pod out of the Service. */
  readiness: "/readyz",
  /** Has start-up finished? Until it has, the kubelet runs neither of the other two. */
  startup: "/startupz",
} as const;
