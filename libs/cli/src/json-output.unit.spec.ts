import { emitter, jsonDocument } from './json-output';

describe('emitter', () => {
  it('prints the value as one pretty-printed JSON document under --json, and only that', () => {
    const out: string[] = [];
    const text = jest.fn();
    emitter((t) => out.push(t), true)({ id: 'x', items: [1, 2] }, text);
    expect(out).toEqual(['{\n  "id": "x",\n  "items": [\n    1,\n    2\n  ]\n}']);
    expect(JSON.parse(out[0])).toEqual({ id: 'x', items: [1, 2] });
    expect(text).not.toHaveBeenCalled();
  });

  it('leaves the text to the command without --json', () => {
    const out: string[] = [];
    emitter((t) => out.push(t), false)({ id: 'x' }, () => out.push('x'));
    expect(out).toEqual(['x']);
  });
});

describe('jsonDocument', () => {
  it('indents by two spaces, as every command prints', () => {
    expect(jsonDocument([])).toBe('[]');
    expect(jsonDocument({ a: null })).toBe('{\n  "a": null\n}');
  });
});
