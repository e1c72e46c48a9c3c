/**
 * The bundle's side of its Kubernetes chunk. The CLI's Kubernetes code (KubernetesCluster.ts and
 * the core's backend behind it) is built into `dist/kubernetes.cjs`, apart from the bundle, and it
 * uses the bundle's own copies of the modules they share (effect, the core's domain and services):
 * one effect runtime, one class per failure, one key per service. In the bundle, build.mjs
 * replaces this module with the table of those modules' exports the chunk names, registered here
 * for the chunk to read when it loads (see `kubernetesChunk` in build.mjs).
 *
 * Run from sources (the tests, the VS Code extension) there is no chunk: KubernetesCluster.ts is
 * imported as it is, and this module is empty.
 *
 * @module
 */
export {}
