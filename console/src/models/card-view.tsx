import type { ReactNode } from 'react';
import { parseCard, type Block, type Inline } from './card-markdown';

/** The model card as React elements: text stays text, whatever it contains. */
export function CardView({ markdown }: { markdown: string }) {
  const card = parseCard(markdown);
  return (
    <article className="model-card" aria-label="Model card" data-testid="model-card">
      {card.blocks.map((b, i) => (
        <BlockView key={i} block={b} />
      ))}
      {card.frontMatter ? (
        <details>
          <summary>Metadata (YAML front matter)</summary>
          <pre className="json">{card.frontMatter}</pre>
        </details>
      ) : null}
    </article>
  );
}

function BlockView({ block }: { block: Block }): ReactNode {
  switch (block.kind) {
    case 'heading': {
      // The page has its h1; the card's headings sit below it.
      const Tag = `h${Math.min(block.level + 1, 6)}` as 'h2';
      return (
        <Tag>
          <InlineView content={block.content} />
        </Tag>
      );
    }
    case 'paragraph':
      return (
        <p>
          <InlineView content={block.content} />
        </p>
      );
    case 'list': {
      const items = block.items.map((item, i) => (
        <li key={i}>
          <InlineView content={item} />
        </li>
      ));
      return block.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
    }
    case 'quote':
      return (
        <blockquote>
          {block.blocks.map((b, i) => (
            <BlockView key={i} block={b} />
          ))}
        </blockquote>
      );
    case 'table':
      return (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                {block.header.map((h, i) => (
                  <th key={i} scope="col">
                    <InlineView content={h} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {block.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((c, i) => (
                    <td key={i}>
                      <InlineView content={c} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    case 'code':
      return <pre className="json">{block.text}</pre>;
  }
}

function InlineView({ content }: { content: Inline[] }) {
  return (
    <>
      {content.map((c, i) => {
        switch (c.kind) {
          case 'code':
            return <code key={i}>{c.text}</code>;
          case 'strong':
            return <strong key={i}>{c.text}</strong>;
          case 'em':
            return <em key={i}>{c.text}</em>;
          default:
            return <span key={i}>{c.text}</span>;
        }
      })}
    </>
  );
}
