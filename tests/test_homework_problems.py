"""Homework problems, seeds, answer normalisation and notebook builds (no Jupyter kernel needed)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from kmemlib.homework import (AnswerFormatError, SeedFileError, UnknownAssignmentError, derive_student_seed,
                              get_assignment, list_assignments, load_seed_overrides, question_seed, start,
                              student_seed)
from kmemlib.homework.answers import PAGE_ALLOCATOR, as_bool, as_cache_name, as_int, as_int_list, as_record
from kmemlib.homework.notebooks import (BEGIN_SOLUTION, CODE_STUB, NotebookFormatError, build_solution_notebook,
                                        build_student_notebook, clear_solutions, find_solution_leaks,
                                        load_source, nbgrader_meta, remove_solution_markers, validate_source)


def _setup(nb):
    """The notebook's setup cell (homework.start(...))."""
    return next(c for c in nb.cells if c.get("metadata", {}).get("kmemlib", {}).get("role") == "setup")

ASSIGNMENTS = ["buddy", "kmalloc"]


# --------------------------------------------------------------------------- seeds
def _spec_seed(*parts: str) -> int:
    """The documented derivation, written out independently: SHA-256 over the \\x1f-joined parts, top 48 bits."""
    digest = hashlib.sha256("\x1f".join(("kmembook-homework-v1",) + parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 16


def test_seed_derivation_matches_the_documented_hash():
    assert derive_student_seed("alice", "buddy") == _spec_seed("student", "alice", "buddy")
    s = derive_student_seed("alice", "buddy")
    assert question_seed(s, "q1") == _spec_seed("question", str(s), "q1")
    assert 0 <= s < 2 ** 48


def test_seeds_differ_between_students_assignments_and_questions():
    seeds = {derive_student_seed(f"s{i}", "buddy") for i in range(200)}
    assert len(seeds) == 200
    assert derive_student_seed("alice", "buddy") != derive_student_seed("alice", "kmalloc")
    assert derive_student_seed("alice", "buddy") != derive_student_seed("Alice", "buddy")  # ids are case-sensitive
    assert derive_student_seed(" alice ", "buddy") == derive_student_seed("alice", "buddy")
    base = derive_student_seed("alice", "buddy")
    assert len({question_seed(base, f"q{i}") for i in range(1, 6)}) == 5


def test_student_seed_override():
    assert student_seed("bob", "buddy", {"bob": 42}) == 42
    assert student_seed("alice", "buddy", {"bob": 42}) == derive_student_seed("alice", "buddy")
    with pytest.raises(ValueError):
        derive_student_seed("  ", "buddy")


def test_seed_override_files(tmp_path):
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"alice": 7, "bob": "0x10"}))
    assert load_seed_overrides(js) == {"alice": 7, "bob": 16}
    cs = tmp_path / "s.csv"
    cs.write_text("student_id,seed\nalice, 7\n\ncarol,99\n")
    assert load_seed_overrides(cs) == {"alice": 7, "carol": 99}
    for name, text in [("a.json", "[1]"), ("b.json", "{bad"), ("c.json", '{"x": -1}'), ("d.json", '{"x": true}'),
                       ("e.csv", "alice,1\nalice,2\n"), ("f.csv", "alice\n"), ("g.csv", "alice,x\n"),
                       ("h.txt", "alice,1")]:
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(SeedFileError):
            load_seed_overrides(p)
    with pytest.raises(SeedFileError):
        load_seed_overrides(tmp_path / "missing.json")


# --------------------------------------------------------------------------- purity
@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_same_seed_same_problem_and_no_global_random(aid):
    a = get_assignment(aid)
    for q in a.questions:
        random.seed(1)
        p1 = q.problem(12345, reveal=True)
        state = random.getstate()
        random.seed(999)
        p2 = q.problem(12345, reveal=True)
        assert p1 == p2
        random.seed(1)
        q.problem(12345)
        assert random.getstate() == state, f"{q.qid} touched the global random generator"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_different_students_get_different_problems(aid):
    a = get_assignment(aid)
    for q in a.questions:
        prompts = {start(aid, f"student{i}").problem(q.qid).prompt for i in range(12)}
        assert len(prompts) >= 10, f"{aid}/{q.qid}: only {len(prompts)} distinct problems for 12 students"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_problem_without_reveal_has_no_answer(aid):
    a = get_assignment(aid)
    for q in a.questions:
        p = start(aid, "alice").problem(q.qid)
        assert p.answer is None and not p.revealed
        assert "Answer:" not in str(p) and "*Answer:*" not in p._repr_markdown_()


# --------------------------------------------------------------------------- golden problems (hand-worked)
def test_golden_buddy_q1_seed_1():
    # 16 pages, MAX_PAGE_ORDER 3: boot frees blocks 0 and 8 (order 3). A(o0): split 0 -> 4(o2) 2(o1) 1(o0), A=0.
    # B(o1) = 2. C(o1): split 4 -> 6(o1), C=4. D(o1) = 6. Free D: buddy 6^2=4 is C (allocated) -> no merge.
    # Free lists: o0 {1}, o1 {6}, o2 {}, o3 {8}.
    p = get_assignment("buddy").question("q1").problem(1, reveal=True)
    assert p.data == {"nr_pages": 16, "max_page_order": 3,
                      "trace": [["alloc", "A", 0], ["alloc", "B", 1], ["alloc", "C", 1], ["alloc", "D", 1],
                                ["free", "D", 1]]}
    assert p.answer == [1, 1, 0, 1]


def test_golden_buddy_q2_seed_3():
    # Boot: [0, 8] at order 3. A(o2): split 0, 4 -> o2 head; A=0. B(o0): split 4 -> 6(o1), 5(o0); B=4.
    # C(o1) = 6. D(o2): split 8 -> 12(o2); D=8. E(o1): split 12 -> 14(o1); E=12.
    p = get_assignment("buddy").question("q2").problem(3, reveal=True)
    assert p.data["trace"] == [["alloc", "A", 2], ["alloc", "B", 0], ["alloc", "C", 1], ["alloc", "D", 2],
                               ["alloc", "E", 1]]
    assert p.answer == [0, 4, 6, 8, 12]


def test_golden_buddy_q3_seed_0():
    # Free 22/o0: buddy 23 free o0 -> 22/o1; buddy 20 free o1 -> 20/o2; buddy 16 free o2 -> 16/o3;
    # buddy 24 free o3 -> 16/o4; buddy 0 is only free as (0, 1), not order 4 -> stop at (16, 4).
    p = get_assignment("buddy").question("q3").problem(0, reveal=True)
    assert p.data["free_blocks"] == [[0, 1], [4, 0], [12, 1], [16, 2], [20, 1], [23, 0], [24, 3], [35, 0], [52, 2],
                                     [60, 2]]
    assert p.data["freed"] == [22, 0]
    assert p.answer == {"buddy_pfn": 23, "pfn": 16, "order": 4}


def test_golden_buddy_q4():
    q = get_assignment("buddy").question("q4")
    # seed 21: free = 49 + 11*2 = 71. a) order 2 vs low 85: 71 - 3 = 68 <= 85 -> no.
    # b) order 1 vs min 68: 70 > 68 and order-1 blocks exist -> yes.
    # c) order 0 vs low with ALLOC_MIN_RESERVE: mark 85 - 85//2 = 43, 71 > 43 -> yes (without the halving: no).
    p = q.problem(21, reveal=True)
    assert p.data["nr_free"] == [49, 11, 0, 0, 0, 0, 0]
    assert p.data["watermarks"] == {"min": 68, "low": 85, "high": 102}
    assert [(r["order"], r["mark"], r["alloc_min_reserve"]) for r in p.data["requests"]] == \
        [(2, "low", False), (1, "min", False), (0, "low", True)]
    assert p.answer == [False, True, True]
    # seed 22: free = 58 + 35*2 + 10*4 = 168. a) order 3 vs min 137: 161 > 137 but no block of order >= 3 -> no.
    # b) order 1 vs min: 167 > 137 -> yes. c) order 1 vs high 205 halved to 103: 167 > 103 -> yes.
    p = q.problem(22, reveal=True)
    assert p.data["nr_free"] == [58, 35, 10, 0, 0, 0, 0]
    assert p.data["watermarks"]["min"] == 137 and p.data["watermarks"]["high"] == 205
    assert [(r["order"], r["mark"], r["alloc_min_reserve"]) for r in p.data["requests"]] == \
        [(3, "min", False), (1, "min", False), (1, "high", True)]
    assert p.answer == [False, True, True]


def test_golden_buddy_q5_seed_0():
    # 36214 B = 9 pages -> get_order 4 (16 pages), 7 returned; 2122 B -> order 0, none; 69517 B = 17 pages -> 5, 15.
    p = get_assignment("buddy").question("q5").problem(0, reveal=True)
    assert p.data["sizes"] == [36214, 2122, 69517]
    assert p.answer == [[4, 7], [0, 0], [5, 15]]


def test_golden_kmalloc_seed_0():
    a = get_assignment("kmalloc")
    p1 = a.question("q1").problem(0, reveal=True)
    # 191: index table[(190)/8 = 23] = 2 -> 192; 7414: fls(7413) = 13 -> 8k; 5 with __GFP_ACCOUNT -> cg-8;
    # 87: table[10] = 1 -> 96.
    assert p1.data["requests"] == [{"size": 191, "gfp": "GFP_KERNEL"}, {"size": 7414, "gfp": "GFP_KERNEL"},
                                   {"size": 5, "gfp": "GFP_KERNEL_ACCOUNT"}, {"size": 87, "gfp": "GFP_KERNEL"}]
    assert p1.answer == ["kmalloc-192", "kmalloc-8k", "kmalloc-cg-8", "kmalloc-96"]
    p2 = a.question("q2").problem(0, reveal=True)
    assert [s["size"] for s in p2.data["structs"]] == [1016, 52, 240]
    assert p2.answer == [1024 - 1016, 64 - 52, 256 - 240]
    p3 = a.question("q3").problem(0, reveal=True)
    # 3486 * 200 = 697200 B; (697199 >> 12) = 170 -> fls = 8; 4096 << 8 = 1048576.
    assert p3.data["size"] == 697200
    assert p3.answer == {"order": 8, "waste": 1048576 - 697200}


def test_golden_kmalloc_geometry():
    a = get_assignment("kmalloc")
    # seed 0: 3728 B, align 32, HWCACHE_ALIGN -> align 64, size ALIGN(3728, 64) = 3776. min_objects 12 capped to
    # order_objects(3) = 32768/3776 = 8 -> min_order get_order(8*3776 = 30208) = 3; leftover 32768 - 8*3776 = 2560
    # > 1/16 (2048) but <= 1/8 -> order 3, 8 objects.
    p = a.question("q4").problem(0, reveal=True)
    assert p.data == {"name": "msg_hdr_cache", "object_size": 3728, "align": 32, "flags": "SLAB_HWCACHE_ALIGN"}
    assert p.answer == {"slab_size": 3776, "order": 3, "objs_per_slab": 8}
    # seed 1: 88 B, align 16, HWCACHE_ALIGN: 88 > 32 so align 64 -> size 128; 12*128 fits order 0 with no leftover.
    p = a.question("q4").problem(1, reveal=True)
    assert p.data == {"name": "dentry_cache", "object_size": 88, "align": 16, "flags": "SLAB_HWCACHE_ALIGN"}
    assert p.answer == {"slab_size": 128, "order": 0, "objs_per_slab": 32}
    p = a.question("q5").problem(0, reveal=True)
    assert p.answer == {"per_object": 3776 - 3728, "per_slab": 2560}


# --------------------------------------------------------------------------- checking and hints
def test_check_accepts_lenient_forms_and_hints_never_reveal():
    hw = start("kmalloc", "alice")
    q1 = hw.problem("q1")
    exp = get_assignment("kmalloc").question("q1").expected(hw.question_seed("q1"))
    loose = [e.upper().replace("K", "k") if e != PAGE_ALLOCATOR else "pages" for e in exp]
    assert hw.verdict("q1", loose).correct
    assert hw.verdict("q1", tuple(exp)).correct
    wrong = list(exp)
    wrong[0] = "kmalloc-4k" if exp[0] != "kmalloc-4k" else "kmalloc-8"
    v = hw.verdict("q1", wrong)
    assert not v.correct and "a:" in v.message
    assert exp[0] not in v.message and q1.prompt


def test_large_kmalloc_partial_credit_and_hint():
    hw = start("kmalloc", "bob")
    exp = get_assignment("kmalloc").question("q3").expected(hw.question_seed("q3"))
    v = hw.verdict("q3", (exp["order"], exp["waste"] + 8))
    assert v.fraction == 0.5
    assert "order is right" in v.message and "PAGE_SIZE << order" in v.message
    assert str(exp["waste"]) not in v.message
    assert hw.verdict("q3", {"order": exp["order"], "waste": exp["waste"]}).correct
    assert hw.verdict("q3", [str(exp["order"]), f"{exp['waste']:,}"]).correct


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_wrong_answers_get_hints_without_the_answer(aid):
    a = get_assignment(aid)
    for i in range(10):
        hw = start(aid, f"h{i}")
        for q in a.questions:
            exp = q.expected(hw.question_seed(q.qid))
            assert hw.verdict(q.qid, exp).correct
            bad = _perturb(exp)
            v = hw.verdict(q.qid, bad)
            assert v.fraction < 1 and v.message
            assert repr(exp) not in v.message and json.dumps(exp) not in v.message


def _perturb(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return "kmalloc-8" if value != "kmalloc-8" else "kmalloc-16"
    if isinstance(value, list):
        return [_perturb(value[0])] + value[1:]
    if isinstance(value, dict):
        return {k: _perturb(v) for k, v in value.items()}
    raise TypeError(value)


def test_unreadable_and_missing_answers():
    hw = start("buddy", "carol")
    assert "no answer yet" in hw.verdict("q1", None).message
    assert "no answer yet" in hw.verdict("q1", ...).message
    v = hw.verdict("q1", "one two")
    assert v.fraction == 0 and "cannot read the answer" in v.message
    assert "exactly 3" in hw.verdict("q4", [True]).message


def test_check_prints(capsys):
    hw = start("buddy", "dave")
    exp = get_assignment("buddy").question("q5").expected(hw.question_seed("q5"))
    hw.check("q5", exp)
    assert "q5: correct (2/2 points)" in capsys.readouterr().out
    hw.check("q5", [[99, 99]] * 3)
    out = capsys.readouterr().out
    assert "q5: not yet" in out and "get_order" in out
    from kmemlib.homework import check
    check("q5", exp)
    assert "correct" in capsys.readouterr().out


def test_start_errors():
    with pytest.raises(ValueError, match="student id"):
        start("buddy", "")
    with pytest.raises(UnknownAssignmentError, match="available: buddy, kmalloc"):
        start("nope", "alice")
    hw = start("buddy", "alice", seed=5)
    assert hw.seed == 5 and hw.overridden
    with pytest.raises(KeyError):
        hw.problem("q9")


def test_normalisers():
    assert as_int("0x1000") == 4096 and as_int(" 4,096 ") == 4096 and as_int(8.0) == 8
    for bad in (True, 1.5, "abc", None, [1]):
        with pytest.raises(AnswerFormatError):
            as_int(bad)
    assert as_int_list("[1, 2 3]") == [1, 2, 3] and as_int_list((1, 2)) == [1, 2]
    with pytest.raises(AnswerFormatError):
        as_int_list({1, 2})
    with pytest.raises(AnswerFormatError):
        as_int_list([1], 2)
    assert [as_bool(x) for x in ("yes", "No", 1, 0, True, "succeeds", "fails")] == \
        [True, False, True, False, True, True, False]
    with pytest.raises(AnswerFormatError):
        as_bool("maybe")
    assert as_cache_name("kmalloc-1024") == "kmalloc-1k"
    assert as_cache_name(96) == "kmalloc-96" and as_cache_name("192") == "kmalloc-192"
    assert as_cache_name("KMALLOC-CG-2K") == "kmalloc-cg-2k"
    assert as_cache_name("dma-kmalloc-8192") == "dma-kmalloc-8k"
    assert as_cache_name("page allocator") == PAGE_ALLOCATOR == as_cache_name("alloc_pages")
    with pytest.raises(AnswerFormatError):
        as_cache_name("slab-64")
    fields = (("a", as_int), ("b", as_int))
    assert as_record((1, "2"), fields) == {"a": 1, "b": 2} == as_record({"b": 2, "a": 1}, fields)
    with pytest.raises(AnswerFormatError):
        as_record({"a": 1}, fields)


# --------------------------------------------------------------------------- notebooks
def test_registry():
    ids = [a.aid for a in list_assignments()]
    assert ids[:2] == ASSIGNMENTS
    parts = {a.part for a in list_assignments()}
    assert {"Part I", "Part II"} <= parts
    for a in list_assignments():
        assert 3 <= len(a.questions) <= 5
        assert a.source_notebook().is_file()


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_source_notebooks_follow_nbgrader_conventions(aid):
    a = get_assignment(aid)
    nb = load_source(a)   # validates
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        assert meta.get("schema_version") == 3 and meta.get("grade_id")
        if meta.get("grade"):
            assert meta.get("locked") and meta["points"] == a.question(meta["grade_id"]).points
    broken = load_source(a)
    broken.cells[4].metadata["nbgrader"]["solution"] = False  # q1-answer
    with pytest.raises(NotebookFormatError):
        validate_source(broken, a)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_student_build_contains_no_solution_text(aid):
    a = get_assignment(aid)
    source = load_source(a)
    solution_lines = set()
    for cell in source.cells:
        if nbgrader_meta(cell).get("solution"):
            inside = False
            for line in cell.source.splitlines():
                if "BEGIN SOLUTION" in line:
                    inside = True
                elif "END SOLUTION" in line:
                    inside = False
                elif inside and line.strip():
                    solution_lines.add(line.strip())
    assert solution_lines
    for sid in ("alice", None):
        nb = build_student_notebook(a, sid)
        text = json.dumps(nb)
        assert "SOLUTION" not in text and not find_solution_leaks(nb)
        student_lines = {ln.strip() for c in nb.cells for ln in c.source.splitlines()}
        assert not solution_lines & student_lines, solution_lines & student_lines
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
            if nbgrader_meta(cell).get("solution"):
                assert CODE_STUB in cell.source
            if nbgrader_meta(cell).get("grade"):
                assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        if sid is not None:
            hw = start(aid, sid)
            for q in a.questions:  # none of this student's answers is stored anywhere in the notebook
                exp = q.expected(hw.question_seed(q.qid))
                if isinstance(exp, (list, dict)):
                    assert json.dumps(exp) not in text and repr(exp) not in text


def test_setup_cells():
    a = get_assignment("buddy")
    per = build_student_notebook(a, "alice", seed=77)
    assert 'homework.start("buddy", student_id="alice", seed=77)' in _setup(per).source
    assert _setup(per).metadata["editable"] is False
    gen = build_student_notebook(a, None)
    assert 'student_id=""' in _setup(gen).source and "editable" not in _setup(gen).metadata
    sol = build_solution_notebook(a, "bob")
    assert 'student_id="bob"' in _setup(sol).source
    assert not find_solution_leaks(sol) and "q1 = z.nr_free()" in json.dumps(sol)


def test_marker_processing():
    src = "x = 1\n    ### BEGIN SOLUTION\n    y = 2\n    ### END SOLUTION\nz = 3"
    assert clear_solutions(src) == "x = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\nz = 3"
    assert remove_solution_markers(src) == "x = 1\n    y = 2\nz = 3"
    assert clear_solutions("### BEGIN SOLUTION\nanswer\n### END SOLUTION", code=False) == "YOUR ANSWER HERE"
    for bad in (BEGIN_SOLUTION + "\nx", "### END SOLUTION", BEGIN_SOLUTION + "\n" + BEGIN_SOLUTION):
        with pytest.raises(NotebookFormatError):
            clear_solutions(bad)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_worked_solutions_agree_with_the_engine(aid):
    """The solution cells (several of them hand algorithms, not engine calls) solve 40 students' problems."""
    a = get_assignment(aid)
    sol = build_solution_notebook(a)
    code = [c.source for c in sol.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    for i in range(40):
        hw = start(aid, f"w{i}")
        ns = {"hw": hw}
        for src in code:
            exec(compile(src, f"<{aid} solution>", "exec"), ns)
        for q in a.questions:
            assert hw.verdict(q.qid, ns[q.qid]).correct, (i, q.qid)
