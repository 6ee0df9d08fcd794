// Keeps every code block in the Markdown docs identical to the compiled file it comes from.
//
// A block is tied to its source by the comment line just above it:
//   <!-- snippet: docs/snippets/quickstart.ts -->          the whole file
//   <!-- snippet: docs/snippets/quickstart.ts#refresh -->  the lines between
//                                                         `// #region refresh` and `// #endregion`
// `node docs/scripts/snippets.mjs` lists blocks that differ from their source (exit 1);
// `--write` rewrites them from the source.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const MARKER = /^<!-- snippet: ([^#\s]+)(?:#([\w-]+))? -->\n```(\w+)\n([\s\S]*?)```$/gm;

/** The Markdown files whose code blocks are checked: the README and everything in docs/. */
export function markdownFiles() {
  const docs = readdirSync(join(root, "docs"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".md") && !f.startsWith("api/") && !f.includes("node_modules"))
    .map((f) => join(root, "docs", f));
  return [join(root, "README.md"), ...docs];
}

/** The text of a snippet source, or of one region of it, dedented. */
export function sourceText(path, region) {
  const text = readFileSync(join(root, path), "utf8");
  if (!region) return text;
  const start = text.indexOf(`// #region ${region}\n`);
  const end = text.indexOf("// #endregion", start);
  if (start < 0 || end < 0) throw new Error(`${path}: no region "${region}"`);
  const lines = text.slice(start, end).split("\n").slice(1, -1);
  // Blank lines at a region's edges are layout of the source file, not part of the excerpt.
  while (lines.length > 0 && lines.at(-1)?.trim() === "") lines.pop();
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length));
  return `${lines.map((l) => l.slice(indent)).join("\n")}\n`;
}

/** Every tied block: where it is, its source, and whether it matches. */
export function blocks(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(MARKER)].map(([, path, region, , body]) => ({
    file: relative(root, file),
    path,
    region,
    body,
    expected: sourceText(path, region),
  }));
}

/** Code blocks of a language we compile that no marker ties to a source. */
export function untiedBlocks(file) {
  const text = readFileSync(file, "utf8");
  const untied = [];
  for (const match of text.matchAll(/^```(ts|typescript|js|javascript|tsx)\n/gm)) {
    const before = text.slice(0, match.index).trimEnd().split("\n").at(-1) ?? "";
    if (!before.startsWith("<!-- snippet: "))
      untied.push(`${relative(root, file)}:${text.slice(0, match.index).split("\n").length}`);
  }
  return untied;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const write = process.argv.includes("--write");
  let stale = 0;
  for (const file of markdownFiles()) {
    for (const block of blocks(file)) {
      if (block.body === block.expected) continue;
      stale++;
      if (!write)
        console.log(
          `${block.file}: block from ${block.path}${block.region ? `#${block.region}` : ""} is stale`,
        );
    }
    if (write) {
      const text = readFileSync(file, "utf8").replace(MARKER, (_all, path, region, lang) => {
        const marker = `<!-- snippet: ${path}${region ? `#${region}` : ""} -->`;
        return `${marker}\n\`\`\`${lang}\n${sourceText(path, region)}\`\`\``;
      });
      writeFileSync(file, text);
    }
  }
  if (stale && !write) process.exit(1);
}
