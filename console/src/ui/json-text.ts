/** JSON text (an event's data, a node's attributes) pretty-printed for a closer look; other text as it is. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
