// Preloaded (node -r) by KubernetesLazy.test.ts: at exit, prints how many files of
// @kubernetes/client-node were loaded: the CLI's chunk of it (dist/kubernetes-client.cjs, see
// build.mjs) or the package's own (require(esm) puts them in require.cache).
process.on("exit", () => {
  const loaded = Object.keys(require.cache).filter((p) => p.includes("@kubernetes/client-node") || p.endsWith("kubernetes-client.cjs"))
  process.stderr.write(`\nclient-node-files ${loaded.length}\nclient-node-package-files ${loaded.filter((p) => p.includes("@kubernetes/client-node")).length}\n`)
})
