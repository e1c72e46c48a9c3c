/**
 * The fake Kubernetes API server and node (test/support/fake-k8s) in a process of their own, for
 * the `k8s-rss` bench: the fake keeps every container's log in memory (1 GiB of pod log is
 * gigabytes of strings), which must be neither in the measured agentrun process nor in the bench's.
 *
 * Images from `BENCH_K8S_IMAGES` (JSON: image name → extra env of `hostImage`). Prints one JSON
 * line `{ kubeconfigPath, url, namespace }` once listening; closes the fake and exits when its
 * stdin ends.
 *
 *   BENCH_K8S_IMAGES='{"bench/agent:1":{"AGENTRUN_CLAUDE":"/path/to/agent"}}' node test/bench/k8sClusterHost.ts
 */
import { hostImage, type ImageSpec, start } from "../support/fake-k8s/FakeKubernetes.ts"

const images = JSON.parse(process.env["BENCH_K8S_IMAGES"] ?? "{}") as Record<string, Record<string, string>>
const fake = await start({
  namespace: "agents",
  images: Object.fromEntries(Object.entries(images).map(([name, env]): [string, ImageSpec] => [name, hostImage(env)]))
})
process.stdout.write(JSON.stringify({ kubeconfigPath: fake.kubeconfigPath, url: fake.url, namespace: fake.namespace }) + "\n")
process.stdin.resume()
process.stdin.on("end", () => {
  void fake.close().finally(() => process.exit(0))
})
