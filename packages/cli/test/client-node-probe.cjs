// Preloaded (node -r) by KubernetesLazy.test.ts: at exit, prints how many of
// @kubernetes/client-node's files were loaded (require(esm) puts them in require.cache).
process.on("exit", () => {
  const loaded = Object.keys(require.cache).filter((p) => p.includes("@kubernetes/client-node")).length
  process.stderr.write(`\nclient-node-files ${loaded}\n`)
})
