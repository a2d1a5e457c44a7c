"""Option errors are usage errors (exit status 2) that name the option and the bad value, found before any
data is read where the option alone tells; options that only the data can judge (--image-size on a table)
fail right after loading, before any work; and messages speak in options, not Python parameter names."""

from __future__ import annotations

import re
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from tests.helpers import run_cli

from transferkit.cli import cli


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading any DATA fails the test: the check under test must run before."""
    import transferkit.workflows

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the options were checked")

    monkeypatch.setattr(transferkit.workflows, "resolve_data", never)


def _usage_error(*args: object, expected: tuple[str, ...]) -> str:
    """Run the command: a usage error (exit status 2) whose message holds every ``expected`` text."""
    code, text = run_cli(*args)
    assert code == 2, text
    assert "Traceback" not in text and "Error: " in text, text
    for e in expected:
        assert e in text, text
    return text


# --- 1. --budget ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["fit", "evaluate"])
@pytest.mark.parametrize(("budget", "why"), [("soon", "cannot read the time budget 'soon'"),
                                             ("0s", "must be a positive, finite time, got '0s'")])
def test_a_bad_budget_is_a_usage_error_before_any_data(command: str, budget: str, why: str, tmp_path: Path,
                                                       no_data: None) -> None:
    _usage_error(command, tmp_path / "missing.csv", "-b", "identity", "-s", "auto", "--budget", budget,
                 "--out", tmp_path / "o", expected=("'--budget'", why))
    assert not (tmp_path / "o").exists()


def test_a_good_budget_passes_the_option_check(tmp_path: Path) -> None:
    code, text = run_cli("fit", tmp_path / "missing.csv", "-b", "identity", "--budget", "1.5h", "--out", tmp_path / "o")
    assert code == 1 and "missing.csv" in text and "--budget" not in text, text  # reached the data


@pytest.mark.parametrize(("storage", "why"), [
    ("foo://host/db", "Can't load plugin: sqlalchemy.dialects:foo"),
    ("postgresql://me:secret@localhost:1/db", "the Python module 'psycopg', is not installed"),
    ("/no/such/folder/s.journal", "folder '/no/such/folder' does not exist"),
])
def test_a_storage_that_cannot_open_is_a_usage_error_before_any_data(storage: str, why: str, tmp_path: Path,
                                                                     no_data: None) -> None:
    text = _usage_error("tune", tmp_path / "missing.csv", "-b", "identity", "--storage", storage,
                        "--out", tmp_path / "o", expected=("'--storage'", why))
    assert "secret" not in text and not (tmp_path / "o").exists()


# --- 2. tune --scoring and --space --------------------------------------------------------------------------

def test_an_unknown_scorer_is_a_usage_error_before_any_data(tmp_path: Path, no_data: None) -> None:
    text = _usage_error("tune", tmp_path / "missing.csv", "-b", "identity", "--scoring", "acuracy",
                        "--out", tmp_path / "o", expected=("'--scoring'", "'acuracy'", "did you mean accuracy"))
    assert "get_scorer_names()" in text


def test_a_known_scorer_passes_the_option_check(tmp_path: Path) -> None:
    code, text = run_cli("tune", tmp_path / "missing.csv", "-b", "identity", "--scoring", "f1_macro",
                         "--out", tmp_path / "o")
    assert code == 1 and "missing.csv" in text and "--scoring" not in text, text


@pytest.mark.parametrize(("head", "space", "expected"), [
    ("logistic", "{C: 1}", ("'--space'", "not valid JSON", "'{C: 1}'")),
    ("logistic", "[1, 2]", ("'--space'", "must be a JSON object", "'[1, 2]'")),
    ("logistic", '{"C": [1, 2]}', ("'--space'", "'C' is not a parameter", "'logisticregression__C'")),
    ("mlp", '{"logisticregression__C": [1]}', ("'--space'", "'logisticregression__C' is not a parameter")),
    ("logistic", '{"logisticregression__C": {"low": -5, "high": -1}}', ("'--space'", "-5", "is not a valid value")),
    ("logistic", "{}", ("'--space'", "the search space is empty")),
])
def test_a_bad_space_is_a_usage_error_before_any_data(head: str, space: str, expected: tuple[str, ...],
                                                      tmp_path: Path, no_data: None) -> None:
    _usage_error("tune", tmp_path / "missing.csv", "-b", "identity", "--head", head, "--space", space,
                 "--out", tmp_path / "o", expected=expected)
    assert not (tmp_path / "o").exists()


def test_a_good_space_passes_the_option_check(tmp_path: Path) -> None:
    code, text = run_cli("tune", tmp_path / "missing.csv", "-b", "identity", "--head", "mlp", "--space",
                         '{"mlpclassifier__alpha": [0.001, 0.01]}', "--out", tmp_path / "o")
    assert code == 1 and "missing.csv" in text and "--space" not in text, text


# --- 3. names checked against the API's registries ------------------------------------------------------------

def test_unknown_names_are_usage_errors_listing_the_registry(tmp_path: Path, no_data: None) -> None:
    from transferkit.feature_selection import METHODS
    from transferkit.selection import DISTANCES, SCORES

    missing = tmp_path / "missing.csv"
    _usage_error("select", missing, "-b", "identity", "-m", "anova,lasso", "--out", tmp_path / "o",
                 expected=("'--methods'", "'lasso'", "choose from: " + ", ".join(METHODS)))
    _usage_error("select", missing, "-b", "identity", "-m", " , ", "--out", tmp_path / "o",
                 expected=("'--methods'", "choose from: " + ", ".join(METHODS)))
    text = _usage_error("rank", missing, "-b", "identity", "--scores", "logme,entropy", "--out", tmp_path / "o",
                        expected=("'--scores'", "'entropy'", "choose from: " + ", ".join(SCORES)))
    assert "leep" in text and "consensus" in text  # the ranking's source scores and consensus are choices too
    _usage_error("rank", missing, "-b", "identity", "--scores", "consensus,knn", "--out", tmp_path / "o",
                 expected=("'--scores'", "request at least two more"))
    _usage_error("distance", missing, missing, "-b", "identity", "--metrics", "mmd_rbf,kl", "--out", tmp_path / "o",
                 expected=("'--metrics'", "'kl'", "choose from: " + ", ".join(DISTANCES)))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [
    ["fit", "-b", "minilm-16", "--out", "o"], ["evaluate", "-b", "minilm-16"], ["lr-find", "-b", "minilm-16"],
    ["audit", "-b", "minilm-16"], ["tune", "-b", "minilm-16", "--out", "o"], ["select", "-b", "minilm-16"],
    ["adapt", "-s", "x", "-t", "y", "-b", "minilm-16"], ["rank", "-b", "identity,minilm-16"],
    ["distance", "y", "-b", "random:minilm-16"],
])
def test_an_unknown_backbone_is_a_usage_error_before_any_data(args: list[str], tmp_path: Path, monkeypatch:
                                                              pytest.MonkeyPatch, no_data: None) -> None:
    monkeypatch.chdir(tmp_path)
    command, *rest = args
    data = [] if command == "adapt" else [tmp_path / "missing.csv"]
    _usage_error(command, *data, *rest, expected=("'--backbone", "Unknown backbone 'minilm-16'",
                                                  "Did you mean 'minilm-l6'"))
    assert not list(tmp_path.iterdir()), "nothing written"


def test_unknown_strategies_are_usage_errors_before_any_data(tmp_path: Path, no_data: None) -> None:
    from transferkit.strategies import STRATEGIES

    missing, out = tmp_path / "missing.csv", tmp_path / "o"
    listed = "choose one of: " + ", ".join(STRATEGIES)
    _usage_error("fit", missing, "-b", "identity", "-s", "adapterfusion", "--out", out,
                 expected=("'--strategy'", "unknown strategy 'adapterfusion'", listed))
    _usage_error("fit", missing, "-b", "identity", "-s", "linear,lora", "--out", out,
                 expected=("'--strategy'", "trains one strategy", "`transferkit evaluate -s linear,lora` compares"))
    _usage_error("evaluate", missing, "-b", "identity", "-s", "linear,adapterfusion", "--out", out,
                 expected=("'--strategy'", "unknown strategy 'adapterfusion'", listed))
    _usage_error("evaluate", missing, "-b", "identity", "-s", " , ", "--out", out,
                 expected=("'--strategy'", "names no strategy"))
    assert not out.exists()


def test_known_names_pass_the_option_checks(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    for args in (["select", missing, "-b", "identity", "-m", "chi2,rfe"],
                 ["rank", missing, "-b", "identity,random:tiny-mlp", "--scores", "gbc,h_score"],
                 ["distance", missing, missing, "-b", "random:identity", "--metrics", "coral"],
                 ["evaluate", missing, "-b", "identity", "-s", "linear, auto"],
                 ["fit", missing, "-s", "linear"],
                 ["audit", missing, "-b", "None"], ["audit", missing, "-b", "auto"], ["audit", missing, "-b", "identity"]):
        code, text = run_cli(*args, "--out", tmp_path / "o")
        assert code == 1 and "missing.csv" in text, text


# --- 4. lr-find -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "end"), [("1", "0.1"), ("0.01", "0.01")])
def test_lr_find_needs_a_rising_range_before_any_data(start: str, end: str, tmp_path: Path, no_data: None) -> None:
    _usage_error("lr-find", tmp_path / "missing.csv", "-b", "tiny-mlp", "--start-lr", start, "--end-lr", end,
                 "--out", tmp_path / "o", expected=("'--start-lr'", f"{float(start):g} is not below --end-lr"))


def test_lr_find_takes_only_fine_tuning_strategies(tmp_path: Path, no_data: None) -> None:
    from transferkit.strategies import STRATEGIES, FullFineTune

    tuners = [n for n, cls in STRATEGIES.items() if issubclass(cls, FullFineTune)]
    for strategy, why in [("auto", "'auto' has none to sweep"), ("linear", "'linear' has none to sweep"),
                          ("fine", "'fine' is not a strategy")]:
        _usage_error("lr-find", tmp_path / "missing.csv", "-b", "tiny-mlp", "-s", strategy, "--out", tmp_path / "o",
                     expected=("'--strategy'", why, "choose from: " + ", ".join(tuners)))


def _strategy_help(command: str) -> str:
    code, text = run_cli(command, "--help")
    assert code == 0, text
    match = re.search(r"--strategy TEXT(.*?)\n  -", text, re.S)  # up to the next option's line
    assert match, text
    return " ".join(match.group(1).split())


def test_lr_find_help_describes_its_own_strategies() -> None:
    from transferkit.strategies import STRATEGIES, FullFineTune

    text = _strategy_help("lr-find")
    for name, cls in STRATEGIES.items():
        assert (name in text) == issubclass(cls, FullFineTune), (name, text)
    assert "--budget" not in text and "evaluate" not in text
    assert "auto" in _strategy_help("fit") and "--budget" in _strategy_help("fit")


# --- 5. options of one modality -----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["fit", "-s", "linear", "-b", "identity"],
    ["evaluate", "-b", "identity"],
    ["lr-find", "-b", "tiny-mlp"],
    ["tune", "-b", "identity"],
    ["select", "-b", "identity"],
    ["rank", "-b", "identity"],
])
@pytest.mark.parametrize(("option", "modality"), [("--image-size", "image"), ("--max-length", "text")])
def test_an_option_for_another_modality_fails_before_any_work(args: list[str], option: str, modality: str,
                                                              table: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import transferkit.features

    def never(*a: object, **k: object) -> None:
        raise AssertionError("features were extracted before the options were checked")

    monkeypatch.setattr(transferkit.features.FeatureExtractor, "fit", never)
    command, *rest = args
    _usage_error(command, table, *rest, option, "64", "--out", tmp_path / "o",
                 expected=(f"{option} 64 applies to {modality} data", "holds table data", f"drop {option}"))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("option", "modality"), [("--image-size", "image"), ("--max-length", "text")])
def test_audit_refuses_an_option_for_another_modality(option: str, modality: str, table: Path,
                                                      tmp_path: Path) -> None:
    """audit reads its data in the API (bad rows are findings, not errors): the API refuses the option."""
    code, text = run_cli("audit", table, "-b", "identity", option, "64", "--out", tmp_path / "o", "--no-progress")
    assert code == 1 and text.strip().splitlines() == [
        f"Error: {option} 64 applies to {modality} data, but the data to audit holds table data; leave {option} out"]
    assert not (tmp_path / "o").exists()


def test_distance_checks_the_modality_options_too(table: Path, tmp_path: Path) -> None:
    _usage_error("distance", table, table, "-b", "identity", "--max-length", "32", "--out", tmp_path / "o",
                 expected=("--max-length 32 applies to text data", "holds table data"))


def test_options_of_the_datas_own_modality_pass() -> None:
    from transferkit.cli._commands import check_modality_options
    from transferkit.data import Dataset

    images = Dataset(X=np.zeros((2, 8, 8), dtype=np.uint8), y=None, modality="image")
    texts = Dataset(X=np.array(["a", "b"], dtype=object), y=None, modality="text")
    check_modality_options({"image_size": 32, "max_length": None}, images)
    check_modality_options({"image_size": None, "max_length": 16}, texts)
    with pytest.raises(Exception, match="--image-size 32 applies to image data, but DATA holds text data"):
        check_modality_options({"image_size": 32, "max_length": None}, texts)


# --- 6. evaluate --test DATA ----------------------------------------------------------------------------------

WARNING = "warning: the test set is the training data: scores measure fit, not generalisation"


def _evaluate_stderr(data: object, test: object, out: Path) -> str:
    """evaluate's stderr up to reading the data (``no_data`` stops it there: the warning comes first)."""
    result = CliRunner().invoke(cli, ["evaluate", str(data), "-b", "identity", "--test", str(test),
                                      "--out", str(out)])
    assert isinstance(result.exception, AssertionError), result.output  # it went on to read the data
    assert "warning" not in result.stdout
    return result.stderr


def test_evaluate_warns_when_the_test_set_is_the_training_data(table: Path, tmp_path: Path, no_data: None) -> None:
    (tmp_path / "sub").mkdir()
    assert WARNING in _evaluate_stderr(table, table, tmp_path / "ev")
    assert WARNING in _evaluate_stderr(table, tmp_path / "sub" / ".." / table.name, tmp_path / "ev")  # another path
    assert WARNING in _evaluate_stderr("digits", "digits", tmp_path / "ev")  # one packaged dataset


def test_evaluate_does_not_warn_for_other_test_data(table: Path, tmp_path: Path, no_data: None) -> None:
    other = tmp_path / "other.csv"
    other.write_bytes(table.read_bytes())  # equal content, another file: nothing this check can tell
    assert "warning" not in _evaluate_stderr(table, other, tmp_path / "ev")
    assert "warning" not in _evaluate_stderr("digits", "mnist", tmp_path / "ev")


# --- 7. tune --refit of a head that does not converge -----------------------------------------------------------

def test_tune_refit_says_in_one_note_that_the_head_did_not_converge(table: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tune", str(table), "-b", "identity", "--head", "mlp", "-n", "1", "--cv", "2",
                                      "--sampler", "random", "--refit", "--no-progress", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "did not converge" in line]
    assert len(notes) == 1 and notes[0].startswith("note: the refitted head did not converge ("), result.output
    assert "ConvergenceWarning" not in result.output and "warnings.warn" not in result.output
    assert (tmp_path / "o" / "model").is_dir()


def test_tune_refit_of_a_converging_head_adds_no_note(table: Path, tmp_path: Path) -> None:
    code, text = run_cli("tune", table, "-b", "identity", "-n", "1", "--cv", "2", "--refit", "--no-progress",
                         "--out", tmp_path / "o")
    assert code == 0 and "model saved to" in text and "did not converge" not in text, text


# --- 8. messages in options, not Python parameters --------------------------------------------------------------

def test_select_says_shift_as_an_option(table: Path, tmp_path: Path) -> None:
    code, text = run_cli("select", table, "-b", "identity", "--cv", "2", "-m", "chi2", "--no-cache", "--no-progress",
                         "--out", tmp_path / "o")
    assert code == 1 and "use --shift minmax or --shift min to move them" in text, text
    assert "shift=" not in text and "(CLI" not in text


def test_a_missing_label_column_is_named_by_its_option(table: Path, tmp_path: Path) -> None:
    code, text = run_cli("fit", table, "-b", "identity", "-s", "linear", "--label-column", "y", "--out", tmp_path / "o")
    assert code == 1 and "Label column 'y' not found" in text and "with --label-column." in text, text
    assert "label_column=" not in text and "in Python" not in text


def test_cli_wording_names_the_commands_own_options() -> None:
    from transferkit.cli._commands import cli_wording, command_options

    options = command_options(cli.get_command(click.Context(cli), "lr-find"))
    assert options["start_lr"] == "--start-lr"
    assert cli_wording("need 0 < start_lr < end_lr, got 1.0, 0.1", options) == \
        "need 0 < --start-lr < --end-lr, got 1.0, 0.1"
    assert cli_wording("use shift='minmax' (CLI --shift)", {"shift": "--shift"}) == "use --shift minmax"
    assert cli_wording("a shift of 2", {"shift": "--shift"}) == "a shift of 2"  # a plain word stays a word
    assert cli_wording("or pass overwrite=True", {"overwrite": "--overwrite"}) == "or pass --overwrite"  # a flag
    assert cli_wording("no file 'x/max_length.csv'", options) == "no file 'x/max_length.csv'"  # nor in quotes


# --- 7. empty values --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "option"), [
    (["fit", "DATA", "-o", ""], "'--out'"),
    (["fit", "DATA", "-o", "m", "-b", ""], "'--backbone'"),
    (["evaluate", "DATA", "--test", " ", "-o", "e"], "'--test'"),
    (["evaluate", "DATA", "-o", ""], "'--out'"),
    (["predict", "MODEL", "DATA", "-o", ""], "'--output'"),
    (["ensemble", "DATA", "-m", " , ", "-o", "e"], "'--members'"),
])
def test_an_empty_value_is_a_usage_error_not_the_current_folder(args: list[str], option: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch, no_data: None) -> None:
    """Path("") is ".": an empty --out wrote into the current folder, an empty --backbone read it as a model."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "MODEL").mkdir()
    _usage_error(*args, expected=(option,))
    assert [p.name for p in tmp_path.iterdir()] == ["MODEL"], "nothing written"


def test_an_empty_data_path_names_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, text = run_cli("fit", "", "-b", "identity", "-o", "m")
    assert code == 1 and "an empty data path names nothing" in text and not (tmp_path / "m").exists(), text


def test_ensemble_members_listed_twice_are_a_usage_error(tmp_path: Path, no_data: None) -> None:
    _usage_error("ensemble", tmp_path / "missing.csv", "-m", "baseline,baseline", "-o", tmp_path / "e",
                 expected=("'--members'", "ensemble member 'baseline' is listed twice"))


@pytest.mark.parametrize(("ckpt", "out", "where"), [("m/ck", "m", "lies inside"), ("ck", "ck/m", "holds"), ("m", "m", "is")])
def test_fit_refuses_a_checkpoint_folder_that_meets_the_model_folder_before_any_data(
        tmp_path: Path, no_data: None, ckpt: str, out: str, where: str) -> None:
    """Checkpoints inside -o made the save fail after the whole training run ('already exists')."""
    _usage_error("fit", "rotten_tomatoes", "--backbone", "tiny-text", "-s", "finetune",
                 "--checkpoint-dir", str(tmp_path / ckpt), "-o", str(tmp_path / out),
                 expected=("--checkpoint-dir", f"{where} the model folder -o"))
    assert not any(tmp_path.iterdir())  # nothing written


def test_lr_find_help_lists_no_option_it_refuses() -> None:
    """--budget and --lr were listed in lr-find's help, and refused when given; --epochs and the early-stopping
    options were listed, and ignored."""
    code, text = run_cli("lr-find", "--help")
    assert code == 0 and "--start-lr" in text and "--batch-size" in text, text
    assert "--budget" not in text and not re.search(r"--lr\b", text) and "--epochs" not in text, text
    _usage_error("lr-find", "rotten_tomatoes", "--lr", "0.1", expected=("drop --lr",))
    _usage_error("lr-find", "rotten_tomatoes", "--epochs", "3", expected=("--epochs does not apply",))


def _image_folder(root: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, base in (("cat", 50), ("dog", 200)):
        (root / cls).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.clip(rng.normal(base, 30, (16, 16, 3)), 0, 255).astype("uint8")).save(root / cls / f"{i}.png")
    return root


@pytest.mark.parametrize("command", [["fit", "-s", "linear", "-o", "{tmp}/m"], ["audit", "-o", "{tmp}/a"]])
def test_a_cache_folder_inside_the_data_folder_is_refused_before_any_work(tmp_path: Path, command: list[str]) -> None:
    """fit accepted it and wrote feature files into the data: every later run found a class folder 'cache'."""
    data = _image_folder(tmp_path / "img")
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    code, text = run_cli(args[0], data, "-b", "tiny-cnn", "--cache-dir", data / "cache", *args[1:])
    assert code == 1 and "lies inside the input folder" in text and "Traceback" not in text, text
    assert sorted(p.name for p in data.iterdir()) == ["cat", "dog"]


@pytest.mark.parametrize(("out", "fix"), [("fix/report", "fix"), ("rep", "rep/fix")])
def test_audit_refuses_a_report_folder_and_a_cleaned_copy_that_overlap(tmp_path: Path, no_data: None, out: str,
                                                                       fix: str) -> None:
    """The cleaned copy replaced its folder whole: a report inside it was lost, or the run failed at the end."""
    code, text = run_cli("audit", tmp_path / "data.csv", "-o", tmp_path / out, "--fix", tmp_path / fix)
    assert code == 1 and "overlap" in text and "Traceback" not in text, text
    assert not any(tmp_path.iterdir())


def test_predict_output_anywhere_inside_a_model_folder_is_refused(tmp_path: Path) -> None:
    """Only the output's own folder was checked: model/sub/p.csv was written, and lost on --overwrite."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    (tmp_path / "t.csv").write_text("a,b,c,label\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{'yn'[i % 2]}"
                                                                for i, r in enumerate(X)))
    code, text = run_cli("fit", tmp_path / "t.csv", "-b", "identity", "-s", "linear", "--holdout", "0",
                         "-o", tmp_path / "m")
    assert code == 0, text
    (tmp_path / "m" / "sub").mkdir()
    code, text = run_cli("predict", tmp_path / "m", tmp_path / "t.csv", "--output", tmp_path / "m" / "sub" / "p.csv")
    assert code == 1 and "lies inside the model folder" in text, text
    assert not (tmp_path / "m" / "sub" / "p.csv").exists()


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_a_seed_out_of_range_is_a_usage_error(tmp_path: Path, no_data: None, seed: str) -> None:
    _usage_error("evaluate", tmp_path / "d.csv", "--seed", seed, expected=("--seed",))


def test_evaluate_refuses_a_strategy_listed_twice(tmp_path: Path, no_data: None) -> None:
    """It was quietly de-duplicated, while rank and ensemble refuse duplicates."""
    _usage_error("evaluate", tmp_path / "d.csv", "-s", "linear,linear", expected=("'linear' is listed twice",))


def test_a_checkpoint_clash_names_resume_once(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(20, 3))
    (tmp_path / "t.csv").write_text("a,b,c,label\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{'yn'[i % 2]}"
                                                                for i, r in enumerate(X)))
    args = ["fit", tmp_path / "t.csv", "-b", "tiny-mlp", "-s", "finetune", "--epochs", "1", "--no-cache",
            "--no-progress", "--checkpoint-dir", tmp_path / "ck"]
    assert run_cli(*args, "-o", tmp_path / "r1")[0] == 0
    code, text = run_cli(*args, "-o", tmp_path / "r2")
    assert code == 1 and "resume from it (--resume) or remove it" in text, text


def test_partial_takes_at_most_one_of_freeze_and_train_top_before_any_data(tmp_path: Path, no_data: None) -> None:
    """It was exit 1 after the data was read and work had started ('failed to fit')."""
    _usage_error("fit", tmp_path / "d.csv", "-b", "tiny-mlp", "-s", "partial", "--freeze", "1", "--train-top", "1",
                 "-o", tmp_path / "m", expected=("takes at most one of --freeze and --train-top",))


@pytest.mark.parametrize("backbone", ["tiny-mlp", "tiny-text"])
def test_augment_on_a_backbone_that_reads_no_images_before_any_data(tmp_path: Path, no_data: None,
                                                                    backbone: str) -> None:
    """It was exit 1 once fine-tuning started ('failed to fit: augmentation applies to image backbones')."""
    _usage_error("fit", tmp_path / "d.csv", "-b", backbone, "-s", "finetune", "--augment", "default",
                 "-o", tmp_path / "m", expected=(f"--augment applies to image backbones; '{backbone}' reads",))


def test_augment_with_the_default_backbone_of_table_data(tmp_path: Path) -> None:
    """With -b auto the data names the backbone: refused once read, before any fit."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    (tmp_path / "t.csv").write_text("a,b,c,label\n" + "\n".join(f"{r[0]},{r[1]},{r[2]},{'yn'[i % 2]}"
                                                                for i, r in enumerate(X)))
    code, text = run_cli("fit", tmp_path / "t.csv", "-s", "finetune", "--augment", "default", "--no-progress",
                         "-o", tmp_path / "m")
    assert code == 2 and "--augment applies to image backbones; 'identity' reads table data" in text, text
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("method", ["bagging", "boosting"])
def test_a_fine_tuned_member_of_a_bagged_ensemble_is_a_usage_error_before_any_data(method: str, tmp_path: Path,
                                                                                   no_data: None) -> None:
    """It exited 1 after the data was read."""
    _usage_error("ensemble", tmp_path / "missing.csv", "--members", "tiny-text:finetune,baseline", "--method", method,
                 "--out", tmp_path / "o", expected=("ensemble member 'tiny-text:finetune'", "use tiny-text:linear"))


@pytest.mark.parametrize("targets", ["", " , "])
def test_empty_target_modules_are_refused_not_read_as_the_default(targets: str, tmp_path: Path, no_data: None) -> None:
    _usage_error("fit", tmp_path / "missing.csv", "-b", "tiny-mlp", "-s", "lora", "--target-modules", targets,
                 "-o", tmp_path / "m", expected=("--target-modules must name at least one layer",))
