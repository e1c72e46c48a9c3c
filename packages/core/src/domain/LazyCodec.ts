/**
 * Schema codecs built on first use. `Schema.encodeSync(schema)` flips the schema's whole AST when
 * it is called (effect 4.1.0, SchemaParser.encodeUnknownEffect), so a module-level encoder of a
 * run record (its outcome a union of every failure class) cost about 2 ms of every CLI start,
 * `agentrun list` included, which encodes nothing (measured with --cpu-prof). Decoders are lazy in
 * effect already (the parser is compiled on the first call); encoders are not.
 *
 * @module
 */

/**
 * A function that builds `make()` on its first call and calls that from then on. For codecs:
 * `const encode = lazily(() => Schema.encodeSync(Schema.fromJsonString(RunRecord)))`.
 */
export const lazily = <A extends ReadonlyArray<unknown>, R>(make: () => (...args: A) => R): ((...args: A) => R) => {
  let built: ((...args: A) => R) | undefined
  return (...args: A) => (built ??= make())(...args)
}
