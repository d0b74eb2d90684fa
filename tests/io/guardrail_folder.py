"""A guardrails folder with everything a walk meets: rule files, files that are not rules, a
subfolder, a symlink loop, a broken symlink and a second name for a rule file."""

from __future__ import annotations

from pathlib import Path

RULE = (
    "rules:\n  - {name: no-ssh, action: deny, from: {namespace: shop-frontend}, to: {namespace: shop-data},"
    " ports: [TCP 22]}\n"
)


def guardrails_folder(root: Path) -> tuple[Path, list[str]]:
    """A guardrails folder with files that are not rules, a subfolder, a symlink loop, a broken
    symlink and a second name for a rule file; and the warnings walking it gives."""
    folder = root / "guardrails"
    (folder / "sub").mkdir(parents=True)
    (folder / "rules.yaml").write_text(RULE, encoding="utf-8")
    (folder / "sub" / "more.csv").write_text(
        "name,from,to,action\nno-db,app=web,app=db,deny\n", encoding="utf-8"
    )
    (folder / "README.md").write_text("# Guardrails of the security team\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a rule\n", encoding="utf-8")
    (folder / ".hidden").write_text("editor state\n", encoding="utf-8")
    (folder / "sub" / "up").symlink_to("..")
    (folder / "gone.yaml").symlink_to("missing.yaml")
    (folder / "z-alias.yaml").symlink_to("rules.yaml")
    return folder, [
        f"warning: {folder}/gone.yaml: a broken symlink: skipped",
        f"warning: {folder}/sub/up: a symlink loop (it leads back to a folder above): not followed",
        f"warning: {folder}/z-alias.yaml: already read as {folder}/rules.yaml: skipped",
    ]
