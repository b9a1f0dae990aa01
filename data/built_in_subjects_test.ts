import assert from "assert";
import { join } from "node:path";
import { builtInSubjects, defaultSubject } from "./built_in_subjects.ts";
import { HELD_OUT_DRAWINGS } from "./held_out.ts";
import { loadSubjectFolder } from "./load_subject_folder.ts";
import { EMOJI_SETS } from "./emoji_sets.ts";

Deno.test("built-in subjects: ≥4 held-out DreamBench subjects with images and provenance", async () => {
  const subjects = builtInSubjects();
  assert.ok(subjects.length >= 4);
  assert.equal(defaultSubject().name, "dog");
  assert.equal(subjects[0].name, "dog");
  for (const s of subjects) {
    assert.equal(s.drawingId, HELD_OUT_DRAWINGS[s.name].drawingId);
    const meta = JSON.parse(await Deno.readTextFile(join(s.dir, "subject.json")));
    assert.equal(meta.classNoun, s.classNoun);
    assert.equal(meta.drawingId, s.drawingId);
    const set = EMOJI_SETS.find((e) => s.drawingId.startsWith(e.prefix + ":"))!;
    assert.equal(meta.source.license, set.license);
    assert.equal(meta.source.package, set.packageName);
    assert.deepEqual(meta.images.map((i: { file: string }) => i.file), s.files);
    const { images } = await loadSubjectFolder(s.dir, { size: 16 });
    assert.equal(images.length, s.files.length);
    assert.ok(s.files.length >= 4 && s.files.length <= 5);
  }
});

Deno.test("data/LICENSES.md lists every source package with its version and licence", async () => {
  const text = await Deno.readTextFile(new URL("./LICENSES.md", import.meta.url));
  for (const s of EMOJI_SETS) {
    const row = text.split("\n").find((l) =>
      l.includes(`\`${s.packageName}\``) && l.includes(s.version)
    );
    assert.ok(row !== undefined, `LICENSES.md has no row for ${s.packageName} ${s.version}`);
    assert.ok(row.includes(s.license), `LICENSES.md row for ${s.packageName} lacks ${s.license}`);
  }
  assert.match(text, /`sharp` \| 0\.35\.5/);
  // Every npm package data/ imports is listed.
  for await (const e of Deno.readDir(new URL(".", import.meta.url))) {
    if (!e.name.endsWith(".ts")) continue;
    const src = await Deno.readTextFile(new URL(e.name, import.meta.url));
    for (const m of src.matchAll(/"npm:(@?[^@"]+)@([\d.]+)/g)) {
      assert.ok(
        text.includes(`\`${m[1]}\``) && text.includes(m[2]),
        `${e.name} imports ${m[1]}@${m[2]} not in LICENSES.md`,
      );
    }
  }
});
