/** Kafka topic of a bounded context: `trellis.<context>.v<N>`. */
export function topicFor(context: string, version = 1): string {
  if (!/^[a-z][a-z0-9-]*$/.test(context)) throw new Error(`invalid context name ${JSON.stringify(context)}`);
  return `trellis.${context}.v${version}`;
}
