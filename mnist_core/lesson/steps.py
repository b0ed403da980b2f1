"""The lesson's four steps, and three beyond it, as data: each step's network, recipe and story.

Pages, the CLI and the tests read this registry; no step's text lives anywhere else.
Each story has three parts: the Target set before training, the Results the source
lesson published (its best epochs), and an Analysis of what the numbers say. Steps 5-7 have
no source lesson (``source`` is None): their Results and Analysis come from our own
measured runs. The numbers of our own shipped runs are not written here: they are read
from ``assets/step<N>/history.json``, which ``python -m mnist_core reproduce`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import RECIPES, NetworkCall, UnknownStep, build_network
from mnist_core.lesson.target import (
    BEYOND_LESSON_PARAM_BUDGET,
    FRONTIER_PARAM_BUDGET,
    PARAM_BUDGET,
    STRETCH_PARAM_BUDGET,
)

STEP_ARGUMENT_HELP = "lesson step (1-4, or 5-7 beyond the lesson)"  # for every CLI command's --step


@dataclass(frozen=True)
class SourceResults:
    """What the source lesson published for a step (its best epochs)."""

    params: int
    best_train_acc: float
    best_test_acc: float


@dataclass(frozen=True)
class Evidence:
    """A Markdown table in ``assets/`` and the command that wrote it."""

    table: str  # file name in assets/
    command: str


@dataclass(frozen=True)
class Trial:
    """A design or recipe measured on the way to a step's own: one 15-epoch run of ``command`` per seed."""

    change: str
    params: int
    final_test_acc: float  # percent at the last epoch; over several seeds, their mean
    best_test_acc: float  # percent at the best epoch; over several seeds, their mean
    seeds: tuple[int, ...]
    command: str  # what made the runs (``python -m mnist_core`` arguments)
    table: str | None = None  # over several seeds: the table the command wrote, in assets/
    verdict: str = ""  # what the measurement decided, in a sentence
    earlier_design: bool = False  # made by an earlier version of this project, whose Step 5 was this design

    @property
    def made_by(self) -> str:
        """Who made the numbers, in words a reader can follow (no commit hashes)."""
        if self.earlier_design:
            return f"`{self.command}` in an earlier version of this project, whose Step 5 was this design"
        return f"`{self.command}`"


def _seed_list(seeds: tuple[int, ...]) -> str:
    contiguous = list(seeds) == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 2 and contiguous else ", ".join(map(str, seeds))


def trials_markdown(trials: tuple[Trial, ...]) -> str:
    """The trials as a Markdown table, in the order they were tried."""
    lines = ["| tried | params | seeds | final test | best test | made by | verdict |",
             "|---|---|---|---|---|---|---|"]
    for t in trials:
        lines.append(f"| {t.change} | {t.params:,} | {_seed_list(t.seeds)} | **{t.final_test_acc:.2f}%** "
                     f"| {t.best_test_acc:.2f}% | {t.made_by} | {t.verdict} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    adds: str  # one line: what this step changes
    model_factory: NetworkCall
    recipe: TrainConfig
    source: SourceResults | None  # None for a step the source lesson does not have
    target: tuple[str, ...]  # bullet points
    analysis: tuple[str, ...]  # bullet points about the results
    tunable: tuple[str, ...]  # recipe fields a user may edit on the page
    evidence: Evidence | None = None  # a measured table that backs the analysis
    param_budget: int = PARAM_BUDGET  # the parameter limit this step is held to
    results: tuple[str, ...] = ()  # bullet points of our own measured results, for a step with no source
    trials: tuple[Trial, ...] = ()  # what was measured on the way to this step's design, for the Analysis
    # How the search went, in order, one paragraph a change: the measurements the Analysis reads
    # together, shown full width under it (only the steps beyond the lesson have one).
    search: tuple[str, ...] = ()

    def build_model(self, config: TrainConfig | None = None) -> nn.Module:
        """This step's network for ``config`` (default: its recipe), or the design or named network the config gives."""
        return build_network(config or self.recipe)

    def network_source(self, config: TrainConfig | None = None) -> str:
        """The call that builds this step's network, as Python with the recipe's values."""
        return self.model_factory.source(config or self.recipe)

    @property
    def model_class(self) -> type[nn.Module]:
        return type(self.build_model())


_COMMON_TUNABLE = ("epochs", "batch_size", "lr", "seed", "activation")

STEPS: dict[int, Step] = {}


def _register(step: Step) -> None:
    STEPS[step.number] = step


_register(Step(
    number=1,
    title="Skeleton",
    adds="A plain convolutional network that fits the budget",
    model_factory=RECIPES[1].network,
    recipe=RECIPES[1].recipe,
    source=SourceResults(params=9_264, best_train_acc=98.82, best_test_acc=98.76),
    target=(
        "Get the whole pipeline working: data, a training loop, a test loop.",
        "Lay out a network whose last layer sees the entire 28x28 digit (receptive field 28) "
        "and that stays under 10,000 parameters.",
        "Two 3x3 convolutions, a max-pool after them (edges and gradients are formed by then), "
        "a 1x1 convolution to cut the channels back, four more 3x3 convolutions, then global "
        "average pooling and a 1x1 convolution to ten classes: no fully connected layer at all.",
    ),
    analysis=(
        "The network learns, and learns fast, so the shape is sound.",
        "Train and test accuracy stay close, so it is not overfitting; it is simply not strong "
        "enough yet. Around 98.8% it stalls well short of 99.4%.",
        "Without normalisation, each layer has to cope with whatever scale the previous one "
        "produces, which makes training slower and less stable. That is the next thing to fix.",
    ),
    tunable=_COMMON_TUNABLE,
))

_register(Step(
    number=2,
    title="BatchNorm and regularisation",
    adds="BatchNorm after every 3x3 block and 5% dropout",
    model_factory=RECIPES[2].network,
    recipe=RECIPES[2].recipe,
    source=SourceResults(params=9_436, best_train_acc=99.20, best_test_acc=99.42),
    target=(
        "Add BatchNorm after each 3x3 block so every layer sees activations on a steady scale.",
        "Add a little dropout (5%) to keep the network from leaning on any single feature.",
        "Pay for it with only 172 extra parameters (a scale and a shift per channel).",
    ),
    analysis=(
        "BatchNorm lifts test accuracy by more than half a point, and for the first time the "
        "99.4% line is touched, though not held.",
        "Test accuracy is now above train accuracy: dropout makes training harder than testing, "
        "so the network is not overfitting, and there is room to push it further.",
        "Some test digits are drawn slightly rotated; the training set does not show enough of "
        "them. Teaching the network that a tilted digit is still the same digit is the next step.",
    ),
    tunable=_COMMON_TUNABLE + ("dropout",),
))

_register(Step(
    number=3,
    title="Image augmentation",
    adds="Each training image randomly rotated by up to ±7°",
    model_factory=RECIPES[3].network,
    recipe=RECIPES[3].recipe,
    source=SourceResults(params=9_436, best_train_acc=98.97, best_test_acc=99.41),
    target=(
        "Rotate every training image by a random angle of up to 7 degrees, so the network sees "
        "the tilted digits the test set contains.",
        "Change nothing else: same network, same 9,436 parameters.",
    ),
    analysis=(
        "Training accuracy drops: the task is now harder, which is the point of augmentation.",
        "Test accuracy holds around 99.4%, and the gap between train and test widens in test's "
        "favour: the network generalises better than it fits.",
        "The test curve still wobbles from epoch to epoch, a sign that the constant learning "
        "rate is too large to settle into a good minimum at the end. A schedule is next.",
    ),
    tunable=_COMMON_TUNABLE + ("dropout", "rotation_degrees", "deskew"),
))

_register(Step(
    number=4,
    title="Learning-rate schedule",
    adds="StepLR: five times Step 3's learning rate, cut tenfold after epochs 5 and 10",
    model_factory=RECIPES[4].network,
    recipe=RECIPES[4].recipe,
    source=SourceResults(params=9_436, best_train_acc=99.05, best_test_acc=99.53),
    target=(
        "Train with a schedule instead of a constant learning rate: large steps early to "
        "cover ground, small steps late to settle.",
        "Choose the schedule by measurement, over several seeds, not by habit.",
        "Stay at 9,436 parameters and 15 epochs, and end above 99.4% at the final epoch, "
        "not only at the best one.",
    ),
    analysis=(
        "With a constant rate, Step 3's last epochs bounce around the 99.4% line: on an unlucky "
        "seed the final epoch lands below it. The weights keep jumping across a good minimum "
        "instead of settling into it.",
        "Two schedules were measured on Step 3's exact setup over three seeds (table below): "
        "StepLR (0.05, cut tenfold every 5 epochs) and OneCycle (a warm-up to a 0.05 peak, then "
        "a cosine cool-down). Both put every seed above 99.4% at the final epoch.",
        "They finish within a few hundredths of a point of each other, and StepLR was ahead on "
        "every seed, so the lesson uses the simpler one: three plateaus that are easy to read on "
        "the learning-rate plot.",
        "Each cut shows in the curves: test accuracy jumps right after epoch 5, settles after "
        "epoch 10, and the last five epochs are nearly flat, so the final epoch is as good as "
        "the best one.",
    ),
    evidence=Evidence(table="schedule_study.md", command="python -m mnist_core schedules --seeds 1 2 3"),
    tunable=_COMMON_TUNABLE + ("dropout", "rotation_degrees", "deskew"),
))


_register(Step(
    number=5,
    title="Half the parameters",
    adds="Beyond the lesson: depthwise-separable blocks and SiLU, 4,918 parameters, about half the lesson's",
    model_factory=RECIPES[5].network,
    recipe=RECIPES[5].recipe,
    source=None,
    target=(
        "Go past the lesson: the same target, higher than 99.40% at the final epoch, within 15 epochs, with at "
        "most 5,000 parameters, about half the lesson's 9,436. One lucky seed is not enough: the mean of three "
        "seeds must be higher than 99.40%, and no seed may end below 99.30%.",
        "Keep what the lesson taught (BatchNorm, global average pooling, ±7° rotation, StepLR) and spend "
        "the parameters where they buy the most.",
    ),
    analysis=(
        "Thinning the lesson's network is not enough. With every layer two channels narrower it still ends "
        "three seeds between 99.47% and 99.49%, 99.48% on average, but that is 6,990 parameters. At 5,000, ordinary "
        "3x3 convolutions buy about 12 channels a layer, and the best such design we tried (SqueezeNet5k, "
        "4,720) ended seed 1 at 99.30%.",
        "A 3x3 convolution pays nine weights for every pair of input and output channels. A "
        "depthwise-separable block splits it in two: a depthwise 3x3 that filters each channel on its own "
        "(nine weights per channel), then a pointwise 1x1 that mixes the channels (one weight per pair). At 24 "
        "channels in and out that is 792 weights instead of 5,184, so the four blocks after the max-pool are "
        "24 channels wide, wider than the lesson's, and the whole network fits in 4,918 parameters.",
        "The two blocks at full resolution stay ordinary 3x3 convolutions (10 and 16 channels, a third of "
        "the parameters): they find strokes in a single grey channel, where a depthwise filter would have "
        "almost nothing to filter. The separable block after the pool is cheap on 16 channels, so no 1x1 "
        "squeeze is needed there.",
        "With the lesson's ReLU this design lands just short: six seeds end between 99.28% and 99.44%, "
        "99.35% on average, and one is under 99.3%. The usual tricks did not close the gap: on seed 1, "
        "5% dropout, OneCycle and label smoothing each ended lower than the plain recipe.",
        "SiLU instead of ReLU closes it, at no cost in parameters: six seeds of this step's recipe end between "
        "99.39% and 99.47%, 99.43% on average, and the first three, the target's measure, 99.44% with none below "
        "99.41% (table below). Seed for seed, from the same starting weights through the same batches, SiLU "
        "ended higher than ReLU on five of the six, by 0.08 points on average.",
        "Why a smoother activation pays here (our reading): BatchNorm centres every channel just before the "
        "activation, so about half of each channel's values are negative. ReLU turns all of them into exactly "
        "zero and sends no gradient back through them; SiLU, x·sigmoid(x), keeps a small negative response and "
        "a gradient everywhere. With 10 to 24 channels a layer there is little to spare.",
        "Step 6 goes on from here: the same plan, narrower where it costs the most, under 3,000 parameters.",
    ),
    results=(
        "Seeds of the recipe (Step 4's StepLR from 0.05, ±7° rotation and batch 128, with no dropout and with "
        "SiLU) are in the table under the Analysis; the shipped run is seed 1.",
    ),
    trials=(
        Trial("Step 4's network, every layer two channels narrower (ordinary 3x3 convolutions)", 6_990, 99.48,
              99.50, (1, 2, 3), "seeds --step 5", table="trials/lesson-net-narrowed-seeds.md",
              verdict="Meets the target, but 6,990 parameters is over the 5,000 limit.", earlier_design=True),
        Trial("SqueezeNet5k: five ordinary 3x3 blocks of 8-12 channels, OneCycle", 4_720, 99.30, 99.32, (1,),
              "train --step 5", verdict="Within the limit, but short of 99.40%.", earlier_design=True),
        Trial("Depthwise-separable after the pool, ReLU", 4_918, 99.35, 99.39, (1, 2, 3, 4, 5, 6),
              "seeds --step 5 --activation relu --seeds 1 2 3 4 5 6", table="trials/separable-relu-seeds.md",
              verdict="Short: a 99.35% mean, one seed under 99.30%."),
        Trial("the same, with Step 4's 5% dropout", 4_918, 99.37, 99.43, (1,),
              "train --step 5 --activation relu --dropout 0.05", verdict="Below 99.40% on seed 1."),
        Trial("the same, OneCycle to 0.05 instead of StepLR", 4_918, 99.31, 99.36, (1,),
              "train --step 5 --activation relu --scheduler onecycle --lr 0.05", verdict="Below 99.40% on seed 1."),
        Trial("the same, with label smoothing 0.1", 4_918, 99.40, 99.45, (1,),
              "train --step 5 --activation relu --label-smoothing 0.1",
              verdict="Only on the line, on one seed: the ReLU network stays short."),
        Trial("SiLU instead of ReLU: this step's recipe", 4_918, 99.43, 99.48, (1, 2, 3, 4, 5, 6),
              "seeds --step 5 --seeds 1 2 3 4 5 6", table="step5-seeds/seeds.md",
              verdict="Adopted: the target is met over six seeds."),
        Trial("SiLU, with Step 4's 5% dropout", 4_918, 99.49, 99.52, (1,), "train --step 5 --dropout 0.05",
              verdict="Not adopted: one seed, 0.02 above the recipe's seed 1, less than seeds of one recipe differ."),
        Trial("SiLU, with weight decay 5e-4", 4_918, 99.50, 99.52, (1,), "train --step 5 --weight-decay 5e-4",
              verdict="Not adopted: one seed, 0.03 above the recipe's seed 1, less than seeds of one recipe differ."),
    ),
    evidence=Evidence(table="step5-seeds/seeds.md",
                      command="python -m mnist_core seeds --step 5 --seeds 1 2 3 4 5 6 --out assets/step5-seeds"),
    tunable=_COMMON_TUNABLE + ("dropout", "rotation_degrees", "deskew"),
    param_budget=BEYOND_LESSON_PARAM_BUDGET,
))


_register(Step(
    number=6,
    title="Under 3,000 parameters",
    adds=("Beyond the lesson: Step 5's plan at 8, 10 and 18 channels, 2,880 parameters, with OneCycle to 0.1, "
          "half the images rotated, an average of the weights kept, and BatchNorm's statistics recomputed on clean "
          "images before the last test pass"),
    model_factory=RECIPES[6].network,
    recipe=RECIPES[6].recipe,
    source=None,
    target=(
        "Go further past the lesson: the same target, higher than 99.40% at the final epoch, within 15 epochs, "
        "with at most 3,000 parameters, under a third of the lesson's 9,436. The bar is stricter than Step 5's: "
        "the mean of five seeds must be higher than 99.40%, and no seed may end below 99.30%. A mean of exactly "
        "99.40% is on the bar, not higher: it does not meet the target.",
        "First measure the smallest public result on equal terms: a 3,762-parameter network published at 99.52% "
        "on one seed, trained here over five.",
        "Stay trainable from this page: a 15-epoch run in under 6 minutes on a 2-core CPU.",
    ),
    analysis=(
        "One published seed is not a result. The smallest public result above the bar that we found (3,762 "
        "parameters, 99.52% on one seed), trained here the way its notebook trains it, ends five seeds at "
        "99.30% on average, short of the bar on every seed.",
        "What worked was Step 5's own plan made narrower where it costs most: two plain 3x3 blocks at full "
        "resolution and four separable ones after the pool, at 8, 10 and 18 channels (2,880 parameters). Its "
        "recipe is Step 5's with four changes: OneCycle to 0.1, BatchNorm's statistics recomputed on the clean "
        "training images after the last epoch, half of the images rotated instead of all, and an average of "
        "the recent weights graded and kept.",
        "Five seeds of that recipe end between 99.36% and 99.52%, 99.45% on average. Five more, trained only "
        "after the recipe was fixed, average 99.38%, and all ten 99.42%: the recipe sits just above the bar, "
        "with less room than its first five seeds suggest.",
        "What did not help, each over five seeds: batch 64 (level, within seed noise), learning from Step 4's "
        "answers (faster early, lower at the end), a cheaper separable stem paid into width (lower, one seed "
        "under the floor). Our reading: a network this small has few weights to spare for turned digits the "
        "test set rarely shows, and the weight average smooths the last steps' wandering, which matters when "
        "one test image is 0.01 points.",
        "Step 7 goes on from here: the same plan and recipe, under 2,000 parameters.",
    ),
    search=(
        "First, the public 3,762-parameter network (three stages of padded 3x3 blocks of 4, 8 and 8 channels; "
        "batch 32, SGD, a piecewise learning rate, shift, zoom, rotation and brightness changes). It ends five "
        "seeds in our trainer between 99.04% and 99.21%, 99.12% on average, 0.4 "
        "points under its published 99.52%. That was its recipe as we first read it, and an audit of its notebook "
        "found four readings wrong: its SGD has momentum 0.95 (we used none), its learning-rate line has a corner "
        "at epoch 12, its weights start Xavier-uniform, and it drops out only after its two pools.",
        "Trained again as its notebook trains it, all four put right, the same network ends five seeds between "
        "99.25% and 99.39%, 99.30% on average: 0.18 higher than our first reading, and still 0.2 points under the "
        "one seed it published, short of the bar on every seed. One seed at the top of a spread stays one seed.",
        "Our first designs kept that recipe (batch 32: about 28,000 small steps in 15 epochs): plain 3x3 blocks "
        "while the image is large and the channels few, separable blocks after the second pool. 2,940 "
        "parameters ended five seeds between 99.17% and 99.34%, 99.24% on average, and 2,700 four seeds between "
        "99.08% and 99.20%, 99.15% on average. With Step 5's recipe the 2,940 network did worse still: three "
        "seeds between 98.97% and 99.13%, 99.08% on average. Those runs had inherited our first reading's "
        "plain SGD; with the notebook's momentum 0.95 and its lr corner, the 2,940 network ended five seeds "
        "between 99.18% and 99.40%, 99.31% on average: 0.07 higher, and still short. The 2,700 network with the "
        "same two fixes ended five seeds between 99.11% and 99.34%, 99.26% on average: 0.11 above its four seeds "
        "of plain SGD, and as short.",
        "Step 5's own plan, made narrower, did better. Its most expensive layer is the second full-resolution "
        "block, nine weights for every pair of channels, where a separable block pays about one. At 8, 12 and "
        "17 channels (2,920 parameters) Step 5's recipe ended three seeds between 99.24% and 99.38%, 99.31% on "
        "average; at 8, 10 and 18 (2,880), moving channels from the expensive block to the cheap ones, between "
        "99.36% and 99.47%, 99.43% on average.",
        "Two levers did not help the 2,920 network. Keeping a weight average (EMA, decay 0.999) ended three "
        "seeds between 99.29% and 99.36%, 99.33% on average, 0.02 above the same recipe without it, less than "
        "its seeds differ. Shift and zoom of ±5% on top of the rotation ended them between 99.18% and 99.21%, "
        "99.20% on average, 0.11 lower.",
        "OneCycle to 0.1 (a warm-up over the first 30% of the batches to twice Step 5's rate, then a cosine anneal to "
        "almost zero) ended the 2,920 network's three seeds between 99.34% and 99.49%, 99.43% on average (on a GPU), "
        "0.12 above StepLR's. Five seeds of each schedule on the 2,880 network, trained side by side on a lent "
        "machine, were cut off at epoch 13 or 14 by its time limit; at epoch 13, the last that all ten "
        "finished, OneCycle's seeds averaged 99.37% and StepLR's 99.34%. So both were trained again in full, "
        "five seeds each on this step's network: OneCycle ended them between 99.32% and 99.39%, 99.37% on "
        "average, StepLR between 99.32% and 99.43%, 99.36% on average. No seed under 99.30%, but both means "
        "short of 99.40%. Three seeds of StepLR on one thread of the lent machine had averaged 99.43%, and "
        "the same three seeds on the 2-core machine 99.39%: three seeds cannot tell recipes this "
        "close apart, which is why this step's bar asks for five.",
        "The last lever is not a training change. BatchNorm normalises with running averages it collected "
        "during training, on rotated images and weighted towards the last few hundred batches; the test "
        "images are not rotated. Recomputing those averages once, on the 60,000 training images as they are "
        "(weights frozen, no test image read), took about 7 seconds here. Measured after the fact on the ten "
        "five-seed runs above, it moved them +0.02 points on average, eight of ten not lower. This step's "
        "recipe keeps OneCycle (0.01 above StepLR over five seeds) and ends with the recalibration, just "
        "before its final test pass.",
        "With it, the five seeds ended between 99.37% and 99.46%, exactly 99.40% on average (49,700 of their "
        "50,000 test images right), none under 99.30%. That is on the bar, not above it: the lesson asks for "
        "higher than 99.40%, so that recipe did not meet the target, short by one right test image over the "
        "five seeds. The recalibration was also chosen after seeing what it did to these same seeds, so it "
        "was tried on seeds the choice never saw: seeds 6, 7 and 8 end at 99.46%, 99.41% and 99.38%, 99.42% on "
        "average, above the bar, but three seeds cannot tell recipes this close apart. The next change must add "
        "margin.",
        "The first lever tried for that margin: batch 64 instead of 128, twice the updates in 15 epochs. Five "
        "seeds end between 99.38% and 99.45%, 99.41% on average: above the bar, but by the width of seed noise "
        "(seed by seed it moved between -0.08 and +0.08 points), so not adopted.",
        "The second: learning from a bigger network's answers as well as from the labels (distillation). Step 4's "
        "shipped network (9,436 parameters, 99.50%) answers every augmented batch; Step 6 matches its softened "
        "answers for 0.9 of its loss. It learned faster: at epoch 8 its five seeds stood between 99.21% and "
        "99.33%, about 0.2 above the recipe's. But the recipe caught up as its learning rate fell, and at the end "
        "the taught seeds were lower, between 99.32% and 99.43%, 99.36% on average. Not adopted; a teacher's own "
        "training would have been a cost on top of it.",
        "The third: a cheaper stem. The second full-resolution block is this network's most expensive layer (720 "
        "weights for 8 channels in and 10 out); made depthwise-separable, 8 to 12 channels cost 192 parameters with "
        "their BatchNorm, and the saving buys 21 channels instead of 18 in the four blocks after the pool (2,908 in "
        "all). Five seeds end between 99.26% and 99.46%, 99.38% on average: wider where the digit is small did not "
        "make up for what the stem lost, and one seed fell under the 99.30% floor.",
        "The fourth, adopted: two stabilisers together. Each training image is rotated with a chance of one half "
        "instead of always, and the network graded and kept is an average of its recent weights "
        "(EMA, decay 0.999, about the last thousand steps), its BatchNorm recalibrated as before. Five seeds end "
        "between 99.36% and 99.52%, 99.45% on average (table below), 0.05 above the recipe before it; seed by "
        "seed they moved between -0.02 and +0.13 points. Which of the two did more is not separated here (the "
        "average alone had moved the 2,920 network by +0.02, within noise). Our reading: a network this small "
        "has few weights to spare for turned digits the test set rarely shows, and the average smooths the "
        "last steps' wandering, which matters when one image is 0.01 points.",
        "Chosen on those five seeds, the recipe was then trained on five it had never seen, 11 to 15: they end "
        "between 99.34% and 99.41%, 99.38% on average, under the bar. Over all ten seeds it averages 99.42%. So "
        "the first five's 99.45% was partly the luck of the draw: the recipe sits just above the bar, with less "
        "room than they suggest. It is kept because over ten seeds it is no worse than the recipe before it "
        "(99.41% over its eight), and its five seeds clear the bar by the margin this step set out to find.",
        "After Step 7 found its margin in deskewing, the same change was screened here: each digit deskewed, then "
        "turned by up to ±12° and zoomed by up to ±10%. Seeds 1 and 5 ended at 99.50% and 99.46%, 99.48% on "
        "average, 0.01 above each of their own (99.49% and 99.45%): level. Those two seeds sit at the top of this "
        "step's spread, so whether the deskew lifts its lower seeds (seed 3 ends at 99.36%) needs all five.",
    ),
    results=(
        "Met on the seeds it was chosen on, not confirmed on five it had not seen. Five seeds of the recipe end "
        "between 99.36% and 99.52% at the final epoch, 99.45% on average (lowest 99.36%, none under the 99.30% "
        "floor): higher than 99.40%. Seeds 11 to 15, trained only after the recipe was fixed, end between 99.34% "
        "and 99.41%, 99.38% on average, not higher than 99.40%; over all ten seeds the recipe averages 99.42%. "
        "Both seed tables are under the Analysis; the shipped run is seed 5, the seed that ends at the first "
        "five's mean.",
        "Trained alone with 2 threads, a 15-epoch run of seed 5 took 3.0 minutes on a 2-core CPU, the weight "
        "average and the recalibration included, so it can be trained from this page. (It ended at 99.43%: two "
        "threads add the same sums in another order than the one thread it had in the table.)",
    ),
    trials=(
        Trial("The public 3,762-parameter design with our reading of its recipe (batch 32, SGD without "
              "momentum, piecewise lr, shift, zoom and rotation of half the images, brightness and contrast), in "
              "our trainer: not faithful (its SGD has momentum 0.95; see docs/research.md)", 3_762, 99.12,
              99.15, (1, 2, 3, 4, 5), "seeds --step 5 --network reference3762 + that recipe (docs/research.md)",
              table="trials/reference3762-seeds.md",
              verdict="Over the limit, and short: 99.12% over five seeds, 0.4 points under its published seed."),
        Trial("The same design as its notebook trains it (SGD with momentum 0.95, the lr corner at epoch 12, "
              "Xavier-uniform weights, dropout only after its two pools), in our trainer", 3_762, 99.30, 99.30,
              (1, 2, 3, 4, 5), "seeds --step 5 --network reference3762-faithful + the faithful recipe "
                               "(docs/research.md)",
              table="trials/reference3762-faithful-seeds.md",
              verdict="Over the limit, and short: 99.30% over five seeds, 0.18 above our first reading, still 0.2 "
                      "points under its published seed."),
        Trial("2,940 parameters, two 4- and three 8-channel 3x3 blocks, three separable 16-channel "
              "blocks, SiLU, that recipe", 2_940, 99.24, 99.28, (1, 2, 3, 4, 5),
              "seeds --step 5 --design assets/trials/frontier2940.json + that recipe (docs/research.md)",
              table="trials/frontier2940-seeds.md",
              verdict="Short: under 3,000 parameters, but 99.24% over five seeds, none at 99.40%."),
        Trial("the same 2,940 network with the notebook's momentum 0.95 and lr corner at epoch 12", 2_940, 99.31,
              99.32, (1, 2, 3, 4, 5), "seeds --step 5 --design assets/trials/frontier2940.json + the faithful "
                                      "recipe (docs/research.md)",
              table="trials/frontier2940-momentum-seeds.md",
              verdict="Short: 99.31% over five seeds, 0.07 above plain SGD, lowest 99.18%."),
        Trial("2,700 parameters, three 4- and three 8-channel 3x3 blocks, three separable 12-channel "
              "blocks, SiLU, that recipe", 2_700, 99.15, 99.18, (1, 2, 3, 4),
              "seeds --step 5 --design assets/trials/frontier2700.json + that recipe (docs/research.md)",
              table="trials/frontier2700-seeds.md",
              verdict="Short: 99.15% over four seeds."),
        Trial("the same 2,700 network with the notebook's momentum 0.95 and lr corner at epoch 12", 2_700, 99.26,
              99.30, (1, 2, 3, 4, 5), "seeds --step 5 --design assets/trials/frontier2700.json + the faithful "
                                      "recipe (docs/research.md)",
              table="trials/frontier2700-momentum-seeds.md",
              verdict="Short: 99.26% over five seeds, 0.11 above plain SGD's four, lowest 99.11%."),
        Trial("2,940 parameters (the design above) with Step 5's recipe: batch 128, StepLR from 0.05, ±7° rotation",
              2_940, 99.08, 99.12, (1, 2, 3), "seeds --step 5 --design assets/trials/frontier2940.json",
              table="trials/frontier2940-steplr-seeds.md",
              verdict="Short, and lower than with the batch-32 recipe: 99.08% over three seeds."),
        Trial("Step 5's network at 8, 12 and 17 channels, Step 5's recipe", 2_920, 99.31, 99.35, (1, 2, 3),
              "seeds --step 5 --design assets/trials/separable2920.json", table="trials/separable2920-steplr-seeds.md",
              verdict="Short: 99.31% over three seeds, but 0.2 above the designs before it."),
        Trial("the same, keeping a weight average (EMA, decay 0.999)", 2_920, 99.33, 99.34, (1, 2, 3),
              "seeds --step 5 --design assets/trials/separable2920.json --ema-decay 0.999",
              table="trials/separable2920-ema-seeds.md",
              verdict="Not adopted: 0.02 above the same recipe without it, less than its seeds differ."),
        Trial("the same, with shift and zoom of ±5% besides the rotation (GPU)", 2_920, 99.20, 99.24, (1, 2, 3),
              "seeds --step 5 --design assets/trials/separable2920.json --translate 0.05 --scale 0.05 --device cuda",
              table="trials/separable2920-shiftzoom-gpu-seeds.md",
              verdict="Not adopted: 0.11 below the same recipe without it."),
        Trial("Step 5's network at 8, 10 and 18 channels, Step 5's recipe", 2_880, 99.43, 99.44, (1, 2, 3),
              "seeds --step 5 --design assets/trials/separable2880.json", table="trials/separable2880-steplr-seeds.md",
              verdict="Adopted as this step's network: above the bar over three seeds, one of them at 99.36%."),
        Trial("8, 12 and 17 channels with OneCycle to 0.1 (GPU)", 2_920, 99.43, 99.44, (1, 2, 3),
              "seeds --step 5 --design assets/trials/separable2920.json --scheduler onecycle --lr 0.1 --device cuda",
              table="trials/separable2920-onecycle-gpu-seeds.md",
              verdict="0.12 above StepLR on the same seeds (those on the CPU): adopted as this step's schedule."),
        Trial("8, 10 and 18 channels with OneCycle to 0.1, graded as trained", 2_880, 99.37, 99.39,
              (1, 2, 3, 4, 5), "seeds --step 6 --bn-recalibrate no "
                               "--augment-fraction 1 --ema-decay 0", table="trials/step6-onecycle-seeds.md",
              verdict="Short: 99.37% over five seeds, none below 99.30%, 0.03 under the bar."),
        Trial("8, 10 and 18 channels with StepLR from 0.05 (Step 5's schedule), graded as trained", 2_880, 99.36,
              99.39, (1, 2, 3, 4, 5), "seeds --step 6 --scheduler step --lr 0.05 --bn-recalibrate no "
                                      "--augment-fraction 1 --ema-decay 0",
              table="trials/step6-steplr-seeds.md",
              verdict="Short: 99.36% over five seeds, its first three seeds 99.39%; the same recipe's three seeds "
                      "on one thread of a lent machine had averaged 99.43% (the 2,880 row above)."),
        Trial("8, 10 and 18 channels with OneCycle to 0.1 and BatchNorm recalibrated: this step's recipe until the "
              "stabilisers below", 2_880, 99.40, 99.41, (1, 2, 3, 4, 5), "seeds --step 6 --seeds 1 2 3 4 5 "
                                                                         "--augment-fraction 1 --ema-decay 0",
              table="trials/step6-recal-seeds/seeds.md",
              verdict="Exactly on the bar, so not met: 99.40% over five seeds, lowest 99.37%; seeds 6-8, "
                      "not seen when it was chosen, 99.42%."),
        Trial("that recipe on seeds 6, 7 and 8, which no choice of it had seen", 2_880, 99.42, 99.42,
              (6, 7, 8), "seeds --step 6 --seeds 6 7 8 "
                         "--augment-fraction 1 --ema-decay 0", table="trials/step6-seeds-6-8.md",
              verdict="Above the bar on seeds the choice never saw: 99.42% over three seeds, lowest 99.38%."),
        Trial("that recipe at batch 64 (twice the updates; OneCycle's momentum kept)", 2_880, 99.41, 99.41,
              (1, 2, 3, 4, 5), "seeds --step 6 --batch-size 64 --seeds 1 2 3 4 5 --parallel 5 "
                               "--augment-fraction 1 --ema-decay 0",
              table="trials/step6-batch64-seeds.md",
              verdict="Within seed noise of batch 128: 99.41% over five seeds, lowest 99.38%; seed by seed it "
                      "moved between -0.08 and +0.08 points. Not adopted: it is not the room above the bar that "
                      "99.45% would be."),
        Trial("that recipe learning from Step 4's shipped network as well (distillation: 0.9 of the loss "
              "from its answers softened at T=4)", 2_880, 99.36, 99.41, (1, 2, 3, 4, 5),
              "seeds --step 6 --distill-from 4 --seeds 1 2 3 4 5 --parallel 5 --augment-fraction 1 --ema-decay 0",
              table="trials/step6-distill4-seeds.md",
              verdict="Not adopted: ahead by about 0.2 points in the middle epochs, 0.04 behind the recipe at the "
                      "end, 99.36% over five seeds, lowest 99.32%."),
        Trial("a separable second block at full resolution (8 to 12 channels, 192 parameters where the plain one "
              "costs 740), and the saving spent on 21 channels after the pool; that recipe", 2_908, 99.38,
              99.40, (1, 2, 3, 4, 5),
              "seeds --step 6 --design assets/trials/sepstem2908.json --seeds 1 2 3 4 5 --parallel 5 "
              "--augment-fraction 1 --ema-decay 0",
              table="trials/sepstem2908-seeds.md",
              verdict="Not adopted: 99.38% over five seeds, and one seed at 99.26%, under the floor."),
        Trial("that recipe with half the images rotated and a weight average (EMA, decay 0.999): this step's "
              "recipe", 2_880, 99.45, 99.46, (1, 2, 3, 4, 5), "seeds --step 6 --seeds 1 2 3 4 5 --parallel 5",
              table="step6-seeds/seeds.md",
              verdict="Adopted: 99.45% over five seeds, lowest 99.36%; 0.05 above the recipe before it."),
        Trial("this step's recipe on seeds 11 to 15, trained only after it was fixed", 2_880, 99.38, 99.39,
              (11, 12, 13, 14, 15), "seeds --step 6 --seeds 11 12 13 14 15 --parallel 5",
              table="trials/step6-seeds-11-15/seeds.md",
              verdict="Not higher than 99.40% on seeds the choice never saw: 99.38% over five seeds, lowest "
                      "99.34%; with seeds 1-5, 99.42% over ten."),
        Trial("screen: Step 7's change, each digit deskewed, then turned by up to ±12° and zoomed by up to ±10%",
              2_880, 99.48, 99.48, (1, 5), "seeds --step 6 --deskew --rotation 12 --scale 0.1 --seeds 1 5 --parallel 2",
              table="trials/step6-deskew-screen-seeds.md",
              verdict="Level with this step's own table on the same two seeds (99.47%): 0.01 up on each, within "
                      "seed noise, and they are its two highest; five seeds would say more."),
    ),
    evidence=Evidence(table="step6-seeds/seeds.md",
                      command="python -m mnist_core seeds --step 6 --seeds 1 2 3 4 5 --parallel 5 "
                              "--out assets/step6-seeds"),
    tunable=_COMMON_TUNABLE + ("dropout", "rotation_degrees", "deskew"),
    param_budget=FRONTIER_PARAM_BUDGET,
))



_register(Step(
    number=7,
    title="Under 2,000 parameters",
    adds="Beyond the lesson: Step 6's plan at 6, 8 and 14 channels (1,916 parameters), each digit deskewed "
         "first, turned and zoomed more",
    model_factory=RECIPES[7].network,
    recipe=RECIPES[7].recipe,
    source=None,
    target=(
        "The stretch: the same target, higher than 99.40% at the final epoch, within 15 epochs, with at most 2,000 "
        "parameters, about a fifth of the lesson's 9,436. The bar is Step 6's: the mean of five seeds must be "
        "higher than 99.40%, and no seed may end below 99.30%.",
        "No public network this small reaches it that we could find: the smallest credible one, 1,936 parameters "
        "with one weight-tied separable block used three times, reports 99.10% after 75 epochs.",
        "Stay trainable from this page: a 15-epoch run in at most 6 minutes on a 2-core CPU.",
    ),
    analysis=(
        "Step 6's plan scales down cleanly: at 6, 8 and 14 channels it is 1,916 parameters, a third fewer. "
        "With Step 6's recipe unchanged, five seeds ended between 99.21% and 99.37%, 99.33% on average: 0.07 "
        "short, and seed 5 under the floor. Twenty-two changes to that recipe and to the layers did no better "
        "(the search below).",
        "What moved it was the image, not the network. People slant their digits by different amounts, and a "
        "network this small spends weights on every slant of every digit. Deskewing, a classic step for MNIST, "
        "measures each digit's slant from its own ink and shears it upright, centring the ink as well. It has "
        "no weights; here it is the network's first layer, so a drawn digit is straightened exactly as a test "
        "digit is.",
        "Neither half helped alone. Deskewed, with Step 6's augmentation, the two screening seeds ended level "
        "with the recipe (99.28% against 99.285%), its training accuracy up and its test accuracy not: half of "
        "what a small turn does to a digit is slant, which the deskew takes back out. Turned further (±12°) "
        "and zoomed by up to ±10%, without the deskew: level again (99.27%). Together: 99.41% and 99.40%, the "
        "first of seventeen screens on Step 7's own seeds to lift both.",
        "Over five seeds the recipe ends between 99.37% and 99.49%, 99.41% on average (49,707 of 50,000 test "
        "digits right): higher than 99.40%, no seed under 99.30%, and 0.08 above the recipe before it. The "
        "margin is thin, seven test images over the five seeds.",
        "Five seeds trained only after the recipe was fixed, 11 to 15, end between 99.35% and 99.53%, 99.41% "
        "on average: higher than 99.40% on seeds the choice never saw too (by three test images), and 99.41% "
        "over all ten.",
        "Our reading: the network was short of capacity, and deskewing gives it some for free by taking away a "
        "variation the digits do not need. The augmentation then has to supply the variety the deskew removed, "
        "or the network learns straightened training digits too well: what it is turned and zoomed by is part "
        "of the same change.",
    ),
    search=(
        "The first candidate was Step 6's plan at 6, 8 and 14 channels. Its second full-resolution block is "
        "still its most expensive layer (448 weights), and the four separable blocks after the pool are 14 "
        "channels wide instead of 18.",
        "On a GPU, with Step 5's StepLR, three seeds ended between 99.13% and 99.34%, 99.21% on average; with "
        "OneCycle to 0.1, between 99.18% and 99.46%, 99.28% on average. With all of Step 6's recipe (OneCycle, "
        "half the images rotated, a weight average, BatchNorm recalibrated) five seeds on this CPU ended between "
        "99.21% and 99.42%, 99.33% on average: the closest yet, 0.07 short, and one seed under the floor.",
        "Weight tying, the public network's trick, was measured first on Step 6's own network: its last three "
        "blocks have the same shape, so one set of their weights can serve all three, each use with a BatchNorm "
        "of its own. That keeps Step 6's computation and receptive field for 1,908 parameters. It cost more than "
        "it saved: five seeds ended between 99.16% and 99.26%, 99.20% on average, 0.25 under Step 6 and 0.13 "
        "under the plain 1,916 network. Our reading: one set of filters asked to serve three depths (at 8x8, 6x6 "
        "and 4x4) does less than three narrower sets with a depth each.",
        "Then five cheaper changes were screened on two seeds each, 1 and 5 (the plain 1,916 network ended them "
        "at 99.33% and 99.21%, 99.27% on average). None stood clear of seed noise.",
        "The last block sent straight to the ten digits, saving the 1x1 head for 16 channels (1,914 parameters): "
        "99.40% and 99.13%, 99.27% on average.",
        "Three separable blocks after the pool instead of four, at 18 channels (1,990): 99.20% and 99.32%, "
        "99.26% on average.",
        "A separable second block (8 to 12 channels) and 15 channels after the pool (1,918): 99.23% and 99.37%, "
        "99.30% on average.",
        "Batch 64: 99.28% and 99.22%, 99.25% on average. A quarter of the images rotated instead of half: "
        "99.46% and 99.20%, 99.33% on average. Two seeds cannot tell changes of a few hundredths apart, so these "
        "are leads, not results.",
        "The last lead followed from Step 6's own reading (a network this small has few weights to spare for "
        "turned digits the test set rarely shows), so it was trained on all five seeds: a quarter of the images "
        "rotated ended them between 99.21% and 99.39%, 99.28% on average, 0.05 under half. The screen's lead was "
        "seed noise, which is why a lead is not a result until five seeds say so.",
        "Six more changes were then screened against Step 7's own table, whose seeds 1 and 5 end at 99.36% and "
        "99.21% (99.285% on average). The three that change the network add no parameter, and each is built so "
        "that a seed starts it from exactly the weights Step 7's network starts from: seed by seed, only the "
        "change differs.",
        "A shortcut around each of the last three blocks, the block's input trimmed by a pixel a side to meet its "
        "output, as residual networks add: 99.33% and 99.18%, 99.25% on average.",
        "The max-pool one block later, so the first separable block still sees the strokes at 24x24: 99.25% and "
        "99.28%, 99.27% on average.",
        "An activation after each depthwise convolution too, as MobileNet's blocks have, which doubles the "
        "nonlinear layers for the same weights: 99.27% and 99.30%, 99.28% on average.",
        "Learning from Step 5's shipped network as well, more lightly than Step 6's trial (half of the loss, "
        "answers softened at T=2): 99.33% and 99.28%, 99.31% on average. At epoch 12 it stood 0.08 and 0.11 "
        "ahead of the recipe on these seeds; as in Step 6, the lead shrank as the learning rate fell. Distillation "
        "is the usual lever for a network this small, so it was taken to all five seeds: between 99.28% "
        "and 99.39%, 99.33% on average, two right test images more than the recipe in 50,000. Its lead was 0.06 "
        "at epoch 11 and gone by epoch 15; it lifted the weakest seed (99.21% to 99.28%), not the mean.",
        "Weight decay 5e-4: 99.32% and 99.27%, 99.30% on average. OneCycle's peak at 0.2 instead of 0.1: 99.27% "
        "and 99.25%, 99.26% on average.",
        "Then the budget was moved between the two ends of the network, five seeds each. Toward full "
        "resolution "
        "(8 and 8 channels there, 13 after the pool, 1,948 parameters): between 99.19% and 99.28%, 99.24% on "
        "average, 0.09 under. Toward the blocks after the pool (4 and 7 channels at full resolution, 16 after "
        "the pool, 1,973 parameters): between 99.22% and 99.37%, 99.31% on average, level. Our reading: a "
        "channel after the pool is worth more than one before it, and 6, 8 and 14 already sits near the best "
        "split of this plan.",
        "Six more screens measured the settings that were still untried. Batch 32, four times the updates in the "
        "same 15 epochs, with OneCycle's peak halved to 0.05 for the smaller batch (its momentum cycles between "
        "0.85 and 0.95, as in every OneCycle run here): 99.26% and 99.30%, 99.28% on average; both seeds peaked "
        "at epoch 11 or 12 and fell back. Every training image rotated instead of half: 99.25% and 99.23%, 99.24% "
        "on average, so half stays the best share measured (a quarter lost 0.05 over five seeds). OneCycle rising "
        "for 15% of the run instead of 30%, which leaves longer to anneal: 99.40% and 99.16%, 99.28% on average.",
        "Adam instead of SGD with momentum, OneCycle to a peak of 0.01: 99.26% and 99.18%, 99.22% on average. "
        "Label smoothing of 0.05, which asks the network to be a little less sure of every answer: 99.24% and "
        "99.10%, 99.17% on average, one of the two largest losses of any screen, in keeping with a network that "
        "has no capacity to spare. The last three epochs on the images as they are, none rotated: 99.36% and "
        "99.23%, 99.30% on average; on those epochs' clean images its training accuracy climbed to 99.40% and "
        "99.45%, but its test accuracy ended about where the recipe's does (99.36% and 99.21% there).",
        "Then a layer that does more per weight, as the research page had proposed. A shift layer (Wu et al., "
        "2018) moves each channel one pixel in one of nine fixed directions and has no weights; the 1x1 after it "
        "mixes channels that looked different ways, so the block still sees a 3x3 window. Put where each "
        "depthwise 3x3 was, it frees 558 weights, enough for 18 channels after the pool instead of 14 (1,954 "
        "parameters): 99.28% and 99.30% on the two screening seeds, 99.29% on average, level, so it was taken "
        "to all five seeds.",
        "Over five seeds the shift network ends between 99.24% and 99.30%, 99.27% on average: 0.06 under the "
        "recipe. Its seeds spread less than in any other five-seed table of Step 7 (0.06 points from lowest to "
        "highest, against 0.16 for the recipe), but around a lower middle: four more channels did not make up for "
        "the learned depthwise filters. Shifting in the second full-resolution block as well, where Step 7 spends "
        "448 weights on one 3x3, and widening to 9, 14 and 19 channels (1,944), screened at 99.23% and 99.10%, "
        "99.17% on average: the 3x3 that finds strokes at full resolution earns its weights.",
        "None of the fourteen changes screened against Step 7's own seeds raised the two seeds' mean by more "
        "than 0.02, and none lifted both seeds. What they share says more than any of them: eight ended seed 1 "
        "lower and seed 5 higher, four lowered both, the shorter rise did the reverse, and the clean last "
        "epochs left seed 1 where it was. In Step 7's table those two seeds sit near the top of the spread and "
        "at its bottom, and changing anything in a run redraws where a seed lands. Read together, the screens "
        "put the two seeds' mean between 99.17% and 99.31% whatever was changed in the recipe or the layers: "
        "at about 1,900 weights, no setting and no kind of layer we tried was worth the 0.07 the recipe was "
        "short.",
        "What was left was the images themselves. MNIST's digits are centred but not upright: some lean by as "
        "much as 45 degrees, and every digit's slant is one more thing a small network has to learn to ignore. "
        "Deskewing, which LeCun and colleagues' table of MNIST results lists beside several of its "
        "classifiers, measures the slant from the image's second moments (how far the ink moves across for "
        "each row it goes down) and shears it away, moving the ink's centre to the middle too. It is a layer "
        "here (engine/deskew.py) with no weights, run on every image the network sees.",
        "Alone, with the recipe as it was, it screened at 99.29% and 99.28%, 99.28% on average: level. Its "
        "training accuracy rose (99.44% and 99.43% at the last epoch, against the recipe's 99.31% and 99.38%) "
        "while its test accuracy did not. Our reading: half the training images are turned by up to ±7°, and "
        "half of what a small turn does is slant (the other half tilts the horizontal strokes), which the "
        "deskew undoes, so the network was training on nearly straight digits and fitting them too well. So "
        "the augmentation was made to vary what the deskew leaves: turns of up to ±12° (which also tilt the "
        "horizontal strokes, which a deskew keeps) and zooms of up to ±10%, on the same half of the images.",
        "Without the deskew, that augmentation screened at 99.33% and 99.21%, 99.27% on average: level. With "
        "it: 99.41% and 99.40%, 99.41% on average, 0.12 above the recipe on the same seeds and the first "
        "screen to lift both of them. On all five seeds the recipe with both changes ended between 99.37% and "
        "99.49%, 99.41% on average: the target, with every seed above the floor. Both halves are needed, so "
        "both are the step's recipe: the network is unchanged, at 1,916 parameters.",
    ),
    results=(
        "Met: the mean is 99.41%, higher than 99.40%, and no seed is below the 99.30% floor: 5 seeds, lowest "
        "99.37%. Five seeds of the recipe end between 99.37% and 99.49% at the final epoch (49,707 of their 50,000 "
        "test images right, table under the Analysis). Five more, 11 to 15, trained only after the recipe was "
        "fixed, average 99.41% as well (lowest 99.35%). Step 7's first recipe, Step 6's unchanged, had ended "
        "seeds 1 to 5 at 99.33%.",
        "The shipped run is the table's seed 1, the seed that ends nearest the mean (99.41%). Trained again alone "
        "with 2 threads, the same seed took 2.8 minutes for 15 epochs on a 2-core CPU, deskewing "
        "included, within the 6 minutes this step allows, so it can be trained from this page. (It ended at "
        "99.40%: two threads add the same sums in another order than the one thread it had in the table.)",
    ),
    trials=(
        Trial("Step 6's plan at 6, 8 and 14 channels, StepLR (GPU)", 1_916, 99.21, 99.26, (1, 2, 3),
              "seeds --step 6 --design assets/trials/separable1916.json --scheduler step --lr 0.05 "
              "--bn-recalibrate no --device cuda --augment-fraction 1 --ema-decay 0",
              table="trials/separable1916-steplr-gpu-seeds.md",
              verdict="Short: 99.21% over three seeds."),
        Trial("6, 8 and 14 channels with OneCycle to 0.1 (GPU)", 1_916, 99.28, 99.32, (1, 2, 3),
              "seeds --step 6 --design assets/trials/separable1916.json --bn-recalibrate no --device cuda "
              "--augment-fraction 1 --ema-decay 0",
              table="trials/separable1916-onecycle-gpu-seeds.md",
              verdict="Short: 99.28% over three seeds, one of them at 99.46%."),
        Trial("6, 8 and 14 channels with all of Step 6's recipe", 1_916, 99.33, 99.35, (1, 2, 3, 4, 5),
              "seeds --step 6 --design assets/trials/separable1916.json --seeds 1 2 3 4 5 --parallel 5",
              table="trials/separable1916-seeds.md",
              verdict="Short: 99.33% over five seeds, lowest 99.21%, under the floor."),
        Trial("Step 6's network with blocks 4, 5 and 6 sharing one set of weights, each use with its own "
              "BatchNorm; Step 6's recipe", 1_908, 99.20, 99.24, (1, 2, 3, 4, 5),
              "seeds --step 6 --network tied1908 --seeds 1 2 3 4 5 --parallel 5",
              table="trials/tied1908-seeds.md",
              verdict="Not adopted: 99.20% over five seeds, 0.13 under the plain 1,916 network."),
        Trial("screen: the last separable block straight to the ten digits (no 1x1 head), 6, 8 and 16 channels",
              1_914, 99.27, 99.28, (1, 5),
              "seeds --step 6 --design assets/trials/merged1914.json --seeds 1 5 --parallel 2",
              table="trials/merged1914-screen-seeds.md",
              verdict="Level with the 1,916 network on the same two seeds (99.27%)."),
        Trial("screen: three separable blocks after the pool instead of four, 6, 8 and 18 channels", 1_990, 99.26,
              99.28, (1, 5), "seeds --step 6 --design assets/trials/three1990.json --seeds 1 5 --parallel 2",
              table="trials/three1990-screen-seeds.md",
              verdict="Level with the 1,916 network on the same two seeds."),
        Trial("screen: a separable second block (8 to 12 channels) and 15 channels after the pool", 1_918, 99.30,
              99.31, (1, 5), "seeds --step 6 --design assets/trials/sepstem1918.json --seeds 1 5 --parallel 2",
              table="trials/sepstem1918-screen-seeds.md",
              verdict="0.03 above the 1,916 network on the same two seeds: seed noise."),
        Trial("screen: the 1,916 network at batch 64", 1_916, 99.25, 99.25, (1, 5),
              "seeds --step 6 --design assets/trials/separable1916.json --batch-size 64 --seeds 1 5 --parallel 2",
              table="trials/sep1916-b64-screen-seeds.md",
              verdict="Level with batch 128 on the same two seeds."),
        Trial("screen: the 1,916 network with a quarter of the images rotated instead of half", 1_916, 99.33, 99.33,
              (1, 5), "seeds --step 6 --design assets/trials/separable1916.json --augment-fraction 0.25 "
                      "--seeds 1 5 --parallel 2",
              table="trials/sep1916-aug25-screen-seeds.md",
              verdict="0.06 above half on the same two seeds, the most of the screens: taken on to five seeds."),
        Trial("the 1,916 network with a quarter of the images rotated, on all five seeds", 1_916, 99.28, 99.30,
              (1, 2, 3, 4, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --augment-fraction 0.25 "
                               "--seeds 1 2 3 4 5 --parallel 5",
              table="trials/separable1916-aug25-seeds.md",
              verdict="Not adopted: 99.28% over five seeds, 0.05 under half; the screen's lead was seed noise."),
        Trial("screen: a shortcut around each of the last three blocks, the input trimmed to the output's size "
              "(no parameters)", 1_916, 99.25, 99.27, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --network residual1916 --seeds 1 5 --parallel 2",
              table="trials/residual1916-screen-seeds.md",
              verdict="Under Step 7's own table on the same two seeds (99.285%): no lead."),
        Trial("screen: the max-pool one block later, so the first separable block works at 24x24", 1_916, 99.27,
              99.27, (1, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --network latepool1916 "
                             "--seeds 1 5 --parallel 2",
              table="trials/latepool1916-screen-seeds.md",
              verdict="Under Step 7's own table on the same two seeds: no lead."),
        Trial("screen: an activation after each depthwise convolution as well (its BatchNorm without scale and "
              "shift, so no parameters)", 1_916, 99.28, 99.32, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --network dwact1916 --seeds 1 5 --parallel 2",
              table="trials/dwact1916-screen-seeds.md",
              verdict="Level with Step 7's own table on the same two seeds."),
        Trial("screen: learning from Step 5's shipped network as well (distillation: half the loss, answers "
              "softened at T=2)", 1_916, 99.31, 99.33, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --distill-from 5 --distill-weight 0.5 "
              "--distill-temperature 2 --seeds 1 5 --parallel 2",
              table="trials/sep1916-distill5-screen-seeds.md",
              verdict="0.02 above Step 7's own table on the same two seeds: seed noise; 0.08 to 0.11 ahead at "
                      "epoch 12, as Step 6's distillation was."),
        Trial("Step 7's recipe learning from Step 5's shipped network as well (half the loss, T=2), on all five "
              "seeds", 1_916, 99.33, 99.36, (1, 2, 3, 4, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --distill-from 5 --distill-weight 0.5 "
              "--distill-temperature 2 --seeds 1 2 3 4 5 "
              "--parallel 5",
              table="trials/separable1916-distill5-seeds.md",
              verdict="Not adopted: 99.33% over five seeds, level with the recipe (two more right test images of "
                      "50,000); seed 5 rises to 99.28%, still under the floor."),
        Trial("screen: weight decay 5e-4", 1_916, 99.30, 99.30, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --weight-decay 5e-4 --seeds 1 5 --parallel 2",
              table="trials/sep1916-wd-screen-seeds.md",
              verdict="0.01 above Step 7's own table on the same two seeds: seed noise."),
        Trial("screen: OneCycle's peak learning rate at 0.2 instead of 0.1", 1_916, 99.26, 99.29, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --lr 0.2 --seeds 1 5 --parallel 2",
              table="trials/sep1916-lr02-screen-seeds.md",
              verdict="Under Step 7's own table on the same two seeds: no lead."),
        Trial("screen: batch 32 (four times the updates), OneCycle's peak at 0.05 and its momentum cycling "
              "0.85-0.95", 1_916, 99.28, 99.33, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --batch-size 32 --lr 0.05 --seeds 1 5 --parallel 2",
              table="trials/sep1916-b32-screen-seeds.md",
              verdict="Level with Step 7's own table on the same two seeds; both peaked at epoch 11 or 12 "
                      "and fell back by epoch 15."),
        Trial("screen: every training image rotated instead of half", 1_916, 99.24, 99.27, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --augment-fraction 1 --seeds 1 5 --parallel 2",
              table="trials/sep1916-aug100-screen-seeds.md",
              verdict="Under Step 7's own table on the same two seeds: no lead."),
        Trial("screen: OneCycle rising for 15% of the run instead of 30%, so it anneals for longer", 1_916, 99.28,
              99.30, (1, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --warmup 0.15 --seeds 1 5 --parallel 2",
              table="trials/sep1916-warm15-screen-seeds.md",
              verdict="Level with Step 7's own table on the same two seeds: seed 1 rose to 99.40%, seed 5 fell "
                      "to 99.16%."),
        Trial("screen: Adam instead of SGD with momentum, OneCycle to a peak of 0.01", 1_916, 99.22, 99.28, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --optimizer adam --lr 0.01 --seeds 1 5 --parallel 2",
              table="trials/sep1916-adam-screen-seeds.md",
              verdict="Under Step 7's own table on the same two seeds: no lead."),
        Trial("screen: label smoothing 0.05 (a twentieth of each target spread over all ten digits)", 1_916, 99.17,
              99.20, (1, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --label-smoothing 0.05 "
                             "--seeds 1 5 --parallel 2",
              table="trials/sep1916-ls05-screen-seeds.md",
              verdict="0.11 under Step 7's own table on the same two seeds, one of the two largest losses of the "
                      "screens."),
        Trial("screen: the last three epochs on the images as they are, none rotated", 1_916, 99.30, 99.30, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --clean-epochs 3 --seeds 1 5 --parallel 2",
              table="trials/sep1916-clean3-screen-seeds.md",
              verdict="0.01 above Step 7's own table on the same two seeds: seed noise."),
        Trial("screen: each depthwise 3x3 replaced by a fixed one-pixel shift (no weights), the 558 weights it "
              "frees spent on 18 channels after the pool instead of 14", 1_954, 99.29, 99.30, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --network shift1954 --seeds 1 5 --parallel 2",
              table="trials/shift1954-screen-seeds.md",
              verdict="Level with Step 7's own table on the same two seeds: taken on to five seeds."),
        Trial("the shift network (18 channels after the pool, no depthwise weights), on all five seeds", 1_954, 99.27,
              99.28, (1, 2, 3, 4, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --network shift1954 "
                                      "--seeds 1 2 3 4 5 --parallel 5",
              table="trials/shift1954-seeds.md",
              verdict="Not adopted: 99.27% over five seeds, 0.06 under the recipe, though its seeds spread least "
                      "of Step 7's five-seed tables (99.24% to 99.30%)."),
        Trial("screen: the shifts in the second full-resolution block too (a shift and a 1x1 where its 3x3 was), "
              "9, 14 and 19 channels", 1_944, 99.17, 99.22, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --network shiftstem1944 --seeds 1 5 --parallel 2",
              table="trials/shiftstem1944-screen-seeds.md",
              verdict="0.12 under Step 7's own table on the same two seeds: the full-resolution 3x3 earns its "
                      "weights."),
        Trial("8, 8 and 13 channels: Step 6's full-resolution width in the first block, paid for after the pool",
              1_948, 99.24, 99.28, (1, 2, 3, 4, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --design assets/trials/widestem1948.json "
              "--seeds 1 2 3 4 5 --parallel 5",
              table="trials/widestem1948-seeds.md",
              verdict="Not adopted: 99.24% over five seeds, 0.09 under 6, 8 and 14 channels."),
        Trial("4, 7 and 16 channels: the budget moved the other way, to the blocks after the pool", 1_973, 99.31,
              99.34, (1, 2, 3, 4, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --design assets/trials/widetail1973.json "
              "--seeds 1 2 3 4 5 --parallel 5",
              table="trials/widetail1973-seeds.md",
              verdict="Not adopted: 99.31% over five seeds, level with 6, 8 and 14 channels, lowest 99.22%."),
        Trial("Step 6's recipe unchanged, trained as this step: Step 7's first recipe", 1_916, 99.33, 99.35,
              (1, 2, 3, 4, 5), "seeds --step 7 --deskew no --rotation 7 --scale 0 --seeds 1 2 3 4 5 --parallel 5",
              table="trials/step7-first-seeds/seeds.md",
              verdict="Not met: 99.33% over five seeds, lowest 99.21%, under the floor."),
        Trial("screen: each digit deskewed before the first layer (no weights), the recipe otherwise unchanged",
              1_916, 99.28, 99.33, (1, 5),
              "seeds --step 7 --deskew no --rotation 7 --scale 0 --network deskew1916 --seeds 1 5 --parallel 2",
              table="trials/deskew1916-screen-seeds.md",
              verdict="Level with Step 7's first table on the same two seeds (99.285%): training accuracy up, test "
                      "accuracy not."),
        Trial("screen: turns of up to ±12° and zooms of up to ±10% on half the images, no deskew", 1_916, 99.27,
              99.31, (1, 5), "seeds --step 7 --deskew no --seeds 1 5 --parallel 2",
              table="trials/sep1916-rot12-zoom-screen-seeds.md",
              verdict="Level with Step 7's first table on the same two seeds: no lead."),
        Trial("screen: both, each digit deskewed, then turned by up to ±12° and zoomed by up to ±10%", 1_916, 99.41,
              99.41, (1, 5), "seeds --step 7 --deskew no --network deskew1916 --seeds 1 5 --parallel 2",
              table="trials/deskew1916-rot12-zoom-screen-seeds.md",
              verdict="0.12 above Step 7's first table on the same two seeds, and both seeds up: taken on to five "
                      "seeds."),
        Trial("deskewed, turned by up to ±12° and zoomed by up to ±10%: this step's recipe", 1_916, 99.41, 99.43,
              (1, 2, 3, 4, 5), "seeds --step 7 --seeds 1 2 3 4 5 --parallel 5", table="step7-seeds/seeds.md",
              verdict="Adopted: 99.41% over five seeds, lowest 99.37%; 0.08 above the first recipe."),
        Trial("this step's recipe on seeds 11 to 15, trained only after it was fixed", 1_916, 99.41, 99.42,
              (11, 12, 13, 14, 15), "seeds --step 7 --seeds 11 12 13 14 15 --parallel 5",
              table="trials/step7-seeds-11-15/seeds.md",
              verdict="Higher than 99.40% on seeds the choice never saw as well: 99.41% over five seeds, lowest "
                      "99.35%; with seeds 1-5, 99.41% over ten."),
    ),
    evidence=Evidence(table="step7-seeds/seeds.md",
                      command="python -m mnist_core seeds --step 7 --seeds 1 2 3 4 5 --parallel 5 "
                              "--out assets/step7-seeds"),
    tunable=_COMMON_TUNABLE + ("dropout", "rotation_degrees", "deskew"),
    param_budget=STRETCH_PARAM_BUDGET,
))

def get_step(number: int) -> Step:
    """The registered step ``number``; raises UnknownStep otherwise."""
    try:
        return STEPS[int(number)]
    except (KeyError, ValueError, TypeError):
        raise UnknownStep(number) from None
