import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without declarations
import { blocks, markdownFiles, untiedBlocks } from "../scripts/snippets.mjs";

interface Block {
  file: string;
  path: string;
  region?: string;
  body: string;
  expected: string;
}

describe("documentation code is compiled code", () => {
  const files: string[] = markdownFiles();

  it("ties every TypeScript/JavaScript block to a compiled source file", () => {
    expect(files.flatMap((f) => untiedBlocks(f))).toEqual([]);
  });

  for (const file of files) {
    for (const block of blocks(file) as Block[]) {
      it(`${block.file} shows ${block.path}${block.region ? `#${block.region}` : ""} as it is`, () => {
        expect(block.body).toBe(block.expected);
      });
    }
  }
});
