/**
 * The outcome a run record holds: a {@link RunOutcome} this build knows, or an
 * {@link UnknownOutcome} written by a newer agentrun (a failure class added after this build).
 * Such a record is listed and inspected with what every outcome carries (`_tag`, `family`,
 * `message`, `retryable`, `evidence`), never hidden.
 *
 * @module
 */
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import { RunFailure } from "./Failures.ts"
import { RunOutcome, Succeeded } from "./RunOutcome.ts"
import { lazily } from "./LazyCodec.ts"

/** Every outcome `_tag` this build decodes into its own class. */
export const knownOutcomeTags: ReadonlySet<string> = new Set([Succeeded.identifier, ...RunFailure.members.map((m) => m.identifier)])

/**
 * An outcome whose `_tag` this build does not know. `tag` is the stored `_tag` (it is written
 * back as `_tag`, so rewriting the record keeps it); `family` is kept as stored (it may name a
 * family this build does not know either); `evidence` is kept as it was, undecoded.
 */
export class UnknownOutcome extends Schema.Class<UnknownOutcome>("UnknownOutcome")({
  _tag: Schema.tag("UnknownOutcome"),
  tag: Schema.String,
  family: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean,
  evidence: Schema.Unknown
}) {}

/** The stored shape of an unknown outcome: the common outer shape, with a `_tag` no known class claims. */
const UnknownOutcomeStored = Schema.Struct({
  _tag: Schema.String.check(Schema.makeFilter((tag: string) => !knownOutcomeTags.has(tag) || `a known outcome tag (${tag}) with a malformed body`)),
  family: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean,
  evidence: Schema.Unknown
})

const UnknownOutcomeFromStored = UnknownOutcomeStored.pipe(
  Schema.decodeTo(UnknownOutcome, {
    decode: SchemaGetter.transform(({ _tag, ...rest }) => ({ _tag: "UnknownOutcome" as const, tag: _tag, ...rest })),
    encode: SchemaGetter.transform(({ tag, _tag: _, ...rest }) => ({ _tag: tag, ...rest }))
  })
)

/**
 * A stored outcome: a known {@link RunOutcome}, else an {@link UnknownOutcome}. A known `_tag`
 * whose body does not decode is not "unknown": the record is damaged (see RunRecordDamaged).
 */
export const StoredOutcome = Schema.Union([RunOutcome, UnknownOutcomeFromStored])
export type StoredOutcome = typeof StoredOutcome.Type

/** The `_tag` to show for a stored outcome: the stored one for an unknown outcome. */
export const outcomeTag = (outcome: StoredOutcome): string => outcome._tag === "UnknownOutcome" ? outcome.tag : outcome._tag

/** The JSON shape of a stored outcome (`{ _tag, family, message, retryable, evidence }`, as stored). */
export const storedOutcomeJson: (outcome: StoredOutcome) => typeof StoredOutcome.Encoded = lazily(() => Schema.encodeSync(StoredOutcome))
