"""What the incident and diagnose screens say when `w` saves their Markdown, and the file names they use."""

from __future__ import annotations

from oncall_tui.ui.saved_markdown import save_markdown, slug


def test_a_saved_note_says_where_it_went(tmp_path):
    path = tmp_path / "reports" / "incident-x.md"  # the folder is made
    message, ok = save_markdown(path, "# note\n", saved_as="the incident note", failed="the incident note")
    assert ok and path.read_text() == "# note\n"
    assert message.plain == f"Saved the incident note as Markdown to {path}"


def test_an_unsaved_note_says_why(tmp_path):
    (tmp_path / "reports").write_text("a file where the folder should be")
    message, ok = save_markdown(tmp_path / "reports" / "d.md", "x", saved_as="the diagnosis", failed="the report")
    assert not ok and message.plain.startswith("✖ could not save the report: ")


def test_file_names_keep_only_plain_characters():
    assert slug("ModelLatency/../high churn [b]") == "ModelLatency-..-high-churn-b"
    assert slug("x" * 80) == "x" * 60 and slug("..") == ""
