"""nfo: valid Kodi/Jellyfin XML with the TMDB id, escaped; written through the journal and removed by undo."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from anivault import generated, nfo
from anivault.journal import Journal, journal_dir
from anivault.match import Match
from anivault.fileops import file_hash, fingerprint
from anivault.organize import PlanOptions, plan_organize
from organize_support import episode, write

SHOW = Match(id=209867, media_type="tv", title='Frieren: <Beyond> & "Journey\'s End"\x01',
             original_title="葬送のフリーレン", year=2023, season=1, episode=None, confidence=1.0)


def test_documents_are_valid_xml_with_the_id_and_escaped_text():
    info = nfo.NfoInfo(209867, "tv", SHOW.title, SHOW.original_title, 2023, 1, 28, 29)
    show = ET.fromstring(nfo.tvshow_nfo(info))
    assert show.tag == "tvshow" and show.find("uniqueid").text == "209867"
    assert show.find("uniqueid").attrib == {"type": "tmdb", "default": "true"}
    assert show.find("title").text == 'Frieren: <Beyond> & "Journey\'s End"'  # \x01 cannot be XML: dropped
    assert show.find("originaltitle").text == "葬送のフリーレン" and show.find("year").text == "2023"
    ep = ET.fromstring(nfo.episode_nfo(info))
    assert (ep.tag, ep.find("season").text, ep.find("episode").text, ep.find("episodenumberend").text) == \
        ("episodedetails", "1", "28", "29")
    movie = ET.fromstring(nfo.movie_nfo(info._replace(media_type="movie")))
    assert movie.tag == "movie" and movie.find("tmdbid").text == "209867"


def test_fingerprint_of_bytes_matches_the_file_fingerprint(tmp_path):
    for size in (0, 10, 4096, 5000, 8192, 9000, 100_000):
        data = os.urandom(size)
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        assert generated.fingerprint_of(data) == fingerprint(str(path), size)


def _applied_with_nfos(tmp_path):
    src, lib = tmp_path / "dl", tmp_path / "lib"
    records = [episode(src, "f1.mkv", "Frieren", 1), episode(src, "f2.mkv", "Frieren", 2)]
    collector = nfo.Collector()
    matched = [(r, Match(**{**SHOW.to_dict(), "episode": r.parsed.episode})) for r in records]
    plan = plan_organize(collector.tap(matched), PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink"))
    return plan, collector, lib


def test_a_plan_gets_one_show_nfo_and_an_nfo_per_filed_episode(tmp_path):
    plan, collector, lib = _applied_with_nfos(tmp_path)
    from anivault.organize import apply_plan

    apply_plan(plan)
    files = dict(nfo.nfo_files(plan, collector))
    show_dir = os.path.dirname(os.path.dirname(plan.entries[0].dst))
    assert sorted(files) == sorted([os.path.join(show_dir, "tvshow.nfo")]
                                   + [os.path.splitext(e.dst)[0] + ".nfo" for e in plan.entries])
    for data in files.values():
        ET.fromstring(data)


def test_journaled_nfos_are_removed_by_undo_and_never_replace_a_file(tmp_path):
    from anivault.undo import undo

    dst_dir = tmp_path / "lib" / "Show (2023)"
    theirs = write(dst_dir / "tvshow.nfo", "<tvshow>mine</tvshow>")
    files = [(str(theirs), b"<tvshow/>"), (str(dst_dir / "Season 01" / "a.nfo"), b"<episodedetails/>"),
             (str(dst_dir / "movie.nfo"), nfo.movie_nfo(nfo.NfoInfo(1, "movie", "M", None, 2000, None, None, None)))]
    (dst_dir / "Season 01").mkdir()
    directory = journal_dir()
    os.makedirs(directory, exist_ok=True)
    op = "20261203-000000-abcdef"
    begin = {"t": "begin", "v": 1, "op": op, "action": "hardlink", "dest": str(tmp_path / "lib"), "sources": [],
             "entries": 2, "pid": os.getpid(), "host": "", "proc_started": 0, "started": 0}
    with Journal(os.path.join(directory, f"{op}.jsonl"), begin=begin) as journal:
        report = generated.write_journaled(journal, op, files, first_index=5)
        journal.write({"t": "end", "status": "complete", "done": 2, "failed": 0})
    assert (report.written, report.kept, report.failed) == (2, 1, [])
    assert theirs.read_text() == "<tvshow>mine</tvshow>"  # never replaced
    assert (dst_dir / "Season 01" / "a.nfo").read_bytes() == b"<episodedetails/>"
    assert file_hash(str(dst_dir / "movie.nfo")) and not list(dst_dir.glob(".anivault-*"))
    result = undo(op)
    assert result.undone == 2
    assert not (dst_dir / "Season 01" / "a.nfo").exists() and not (dst_dir / "movie.nfo").exists()
    assert theirs.exists()


def test_apply_writes_the_nfos_through_the_journal_and_undo_removes_them(tmp_path):
    from anivault.organize import apply_plan
    from anivault.undo import undo

    plan, collector, lib = _applied_with_nfos(tmp_path)
    report = apply_plan(plan, extra_files=lambda p: nfo.nfo_files(p, collector))
    nfos = sorted(str(p) for p in lib.rglob("*.nfo"))
    assert report.done == 2 and report.generated == 3 and len(nfos) == 3
    show = ET.parse(next(p for p in nfos if p.endswith("tvshow.nfo"))).getroot()
    assert show.find("uniqueid").text == "209867"
    episodes = sorted(ET.parse(p).getroot().find("episode").text for p in nfos if not p.endswith("tvshow.nfo"))
    assert episodes == ["1", "2"]
    result = undo(report.op)
    assert result.undone == 5 and not result.kept
    assert list(lib.rglob("*")) == [] or not any(p.is_file() for p in lib.rglob("*"))


def test_import_with_nfo_against_the_tmdb_test_server(tmp_path, tmdb_settings):
    from anivault import importer
    from anivault.undo import undo

    download = tmp_path / "dl" / "Frieren"
    for n in (1, 2):
        write(download / f"[SubsPlease] Sousou no Frieren - 0{n} (1080p) [ABCD000{n}].mkv", os.urandom(3000))
    lib = tmp_path / "Anime"
    report = importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink"), nfo=True,
                                   tmdb=tmdb_settings)
    assert report.applied.done == 2 and report.applied.generated == 3
    tvshow, = lib.rglob("tvshow.nfo")
    assert ET.parse(tvshow).getroot().find("uniqueid").text == "209867"
    undo(report.applied.op)
    assert not any(p.is_file() for p in lib.rglob("*")) and len(list(download.iterdir())) == 2
