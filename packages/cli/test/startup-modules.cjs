// Preloaded (node -r) by StartupModules.test.ts: at exit, prints which Node built-ins were loaded.
process.on("exit", () => {
  const loaded = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13))
  process.stderr.write(`\nloaded-builtins ${JSON.stringify(loaded)}\n`)
})
