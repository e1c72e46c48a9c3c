/**
 * @agentrun/core/kubernetes: the parts of the Kubernetes backend that load
 * `@kubernetes/client-node` (about 200 ms and 17 MB of code bundled whole; the CLI's chunk of what
 * k8s/ClientNode.ts names is 3.0 MB). Kept out of the main entry so a
 * process that never talks to a cluster never loads it: the CLI imports this entry dynamically,
 * on its first Kubernetes operation. The pure parts and the API's contract are in the main entry.
 * The doctor's cluster checks (and the RBAC list they check) are here too, though they need no
 * client-node: only a process about to talk to a cluster evaluates them.
 *
 * @module
 */
export * as KubernetesApiLive from "./k8s/KubernetesApiLive.ts"
export * from "./k8s/KubernetesBackend.ts"
export * from "./k8s/ManifestYaml.ts"
export * from "./k8s/AccessNeeds.ts"
export * from "./k8s/ClusterDoctor.ts"
