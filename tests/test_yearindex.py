"""The year's index page: links only to files that exist, every value escaped."""

from dsr_analysis.documents.yearindex import Link, Section, write_year_index


def test_year_index_links_existing_files_and_escapes_every_value(tmp_path):
    (tmp_path / "plan").mkdir()
    made = tmp_path / "plan" / "年度计划.pdf"
    made.write_bytes(b"%PDF-1.4\n")
    page = write_year_index(tmp_path, "2023年<度>闭环", [
        Section("年度计划", (Link("原计划", (("PDF", made),)),
                          Link("第1次调整<b>", (("PDF", tmp_path / "plan" / "missing.pdf"),)))),
    ]).read_text(encoding="utf-8")
    assert "href='plan/年度计划.pdf'" in page
    assert "missing.pdf" not in page and "尚未生成" in page
    assert "<b>" not in page and "第1次调整&lt;b&gt;" in page
    assert "2023年&lt;度&gt;闭环" in page
