"""Model profiles: media tokens from each processor family's rules, checked values, and the real processors.

The hand-worked numbers below follow each processor's rules at the frame
size; the `processors` group checks the same formulas against transformers'
own processors, built locally without weights or network.
"""

from __future__ import annotations

import importlib.util

import pytest

from t2vid.budget import Budget, list_profiles, load_profile, smart_resize
from t2vid.errors import UsageError

HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("torch") is not None
needs_transformers = pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="transformers and torch are not installed (they live in the trainer check's virtualenv, see docs/trainers.md)")

NEW_PROFILES = ("qwen2-vl", "qwen2.5-vl", "qwen2-vl-llamafactory", "minicpm-v-2.6", "internvl2.5", "internvl3", "llava-video")


@pytest.mark.parametrize("name", NEW_PROFILES)
def test_every_model_profile_names_its_source_and_context(name):
    profile = list_profiles()[name]
    assert profile.processor is not None and profile.max_tokens and len(profile.source) > 80


@pytest.mark.parametrize("frames,tokens", [(1, 258), (2, 258), (3, 514), (7, 1026), (40, 5122)])
def test_qwen_pairs_frames_in_time_and_pads_odd_counts(frames, tokens):
    """448x448 is 16x16 tokens of 28 px; two frames share one grid; <|vision_start|>/<|vision_end|> around the video."""
    assert load_profile("qwen2-vl").media_tokens(frames, 448, 448) == tokens
    assert load_profile("qwen2.5-vl").media_tokens(frames, 448, 448) == tokens


def test_qwen_resizes_within_min_and_max_pixels():
    assert smart_resize(300, 1000, 28, 100352, 602112) == (308, 1008)  # sides rounded to 28, area within bounds
    assert smart_resize(2000, 2000, 28, 100352, 602112) == (756, 756)  # scaled down to at most 768 tokens
    assert smart_resize(100, 100, 28, 100352, 602112) == (336, 336)  # scaled up to at least 128 tokens
    qwen = load_profile("qwen2-vl")
    assert qwen.media_tokens(2, 1000, 300) == 11 * 36 + 2
    assert qwen.media_tokens(2, 224, 224) == 12 * 12 + 2  # small frames are scaled up to the video minimum


def test_qwen_long_videos_lower_the_per_frame_maximum():
    """qwen-vl-utils caps a video's total pixels, so very long samples get smaller frames."""
    qwen = load_profile("qwen2-vl")
    assert qwen.media_tokens(300, 448, 448) == 150 * 256 + 2
    per_pair = (qwen.media_tokens(1000, 448, 448) - 2) // 500
    assert per_pair == 15 * 15  # at most 90316800 / 1000 x 2 px per frame: 420x420


def test_llamafactory_default_video_max_pixels_downscales_448_frames():
    """256x256 after LLaMA-Factory's downscale, 252 after rounding, scaled up to the video minimum: 12x12."""
    lf = load_profile("qwen2-vl-llamafactory")
    assert lf.media_tokens(40, 448, 448) == 20 * 144 + 2
    assert lf.media_tokens(4, 448, 448, as_images=True) == 4 * (16 * 16 + 2)  # images: 589824 px allowed, 448x448 kept


def test_minicpm_v_slices_only_frames_larger_than_448_squared():
    minicpm = load_profile("minicpm-v-2.6")
    assert minicpm.media_tokens(1, 448, 448) == 66 + 1 + 3  # <image> 64 queries </image>, newline, <image_id>0</image_id>
    assert minicpm.media_tokens(40, 448, 448) == 40 * 67 + 10 * 3 + 30 * 4
    assert minicpm.processor.slice_grid(896, 448) == (2, 1)
    assert minicpm.media_tokens(1, 896, 448) == 67 + 2 * 66 + 3


def test_internvl_tiles_one_per_frame_in_long_samples():
    internvl = load_profile("internvl2.5")
    assert internvl.media_tokens(40, 448, 448) == 40 * 258
    assert internvl.media_tokens(1, 896, 896) == 5 * 256 + 2  # 2x2 tiles and a thumbnail
    assert internvl.media_tokens(2, 896, 896) == 2 * (5 * 256 + 2)  # 12 // 2 = 6 tiles allowed each
    assert internvl.media_tokens(4, 896, 896) == 4 * 258  # 12 // 4 = 3: no square grid but 1x1
    assert load_profile("internvl3").max_tokens == 16384 and load_profile("internvl2.5").max_tokens == 8192


def test_llava_video_pools_every_frame_to_14x14():
    assert load_profile("llava-video").media_tokens(40, 448, 448) == 40 * (14 * 14 + 14)
    assert load_profile("llava-video").media_tokens(3, 1920, 1080) == 3 * 210  # resized to 384x384 whatever the size


def test_budget_costs_a_sample_at_its_frame_size_and_template():
    budget = Budget("qwen2-vl")
    texts = ["x" * 40, "y" * 40, "z" * 40, "w" * 40]  # two turns, 10 tokens per text
    assert budget.total_tokens(texts, 4, (448, 448)) == 40 + 2 * 256 + 2 + 21 + 10
    assert budget.total_tokens(texts, 4, (224, 224)) == 40 + 2 * 144 + 2 + 21 + 10
    assert Budget("qwen2-vl", frame_size=(224, 224)).total_tokens(texts, 4) == 40 + 2 * 144 + 2 + 21 + 10
    over = Budget("qwen2-vl", max_tokens=500).over(texts, 4)
    assert (over.code, over.detail) == ("over_token_budget", "over budget: 585 tokens (4 frames: 514 + text) > 500")


@pytest.mark.parametrize("text,message", [
    ("max_tokens: lots\n", "max_tokens must be a whole number of 0 or more, not 'lots'"),
    ("max_tokens: -1\n", "max_tokens must be a whole number of 0 or more, not -1"),
    ("processor: qwen\n", "processor must be a mapping, not 'qwen'"),
    ("processor: {patch_size: 14}\n", "processor.family must be one of"),
    ("processor: {family: qwen3}\n", "processor.family must be one of qwen2-vl, minicpm-v, internvl, llava-video"),
    ("processor: {family: qwen2-vl, min_pixel: 4}\n", "unknown key.* processor.min_pixel"),
    ("processor: {family: qwen2-vl, max_pixels: 1.5e6}\n", "processor.max_pixels must be a whole number"),
    ("processor: {family: minicpm-v, use_image_id: 1}\n", "processor.use_image_id must be true or false"),
    ("processor: {family: llava-video, newline: row}\n", "processor.newline must be grid, one_token or none"),
    ("processor: {family: internvl, image_size: 0}\n", "processor.image_size must be at least 1, not 0"),
    ("source: [a, b]\n", "source must be a string"),
])
def test_profile_values_are_type_checked(tmp_path, text, message):
    path = tmp_path / "bad-model.yaml"
    path.write_text("description: a model\n" + text)
    with pytest.raises(UsageError, match=message):
        load_profile(str(path))


# --- against the real processors (transformers, no weights, no network) ---------------------------

def _frames(count, width, height):
    import numpy as np

    return [np.full((height, width, 3), 255 - index, dtype=np.uint8) for index in range(count)]


@pytest.mark.processors
@needs_transformers
@pytest.mark.parametrize("frames,width,height", [(2, 448, 448), (8, 448, 448), (4, 1000, 300), (2, 224, 224), (2, 2000, 2000)])
@pytest.mark.parametrize("name", ["qwen2-vl", "qwen2.5-vl"])
def test_qwen_video_tokens_match_transformers(name, frames, width, height):
    from transformers import Qwen2VLVideoProcessor

    rules = load_profile(name).processor
    processor = Qwen2VLVideoProcessor(min_pixels=rules.min_pixels, max_pixels=rules.max_pixels, size={"shortest_edge": rules.min_pixels, "longest_edge": rules.max_pixels})
    grid = processor(videos=[_frames(frames, width, height)], return_tensors="pt", do_sample_frames=False)["video_grid_thw"][0].tolist()
    assert load_profile(name).media_tokens(frames, width, height) - rules.wrap_tokens == grid[0] * grid[1] * grid[2] // rules.merge_size**2


@pytest.mark.processors
@needs_transformers
@pytest.mark.parametrize("width,height", [(448, 448), (1000, 300), (30, 30), (4000, 4000)])
def test_qwen_image_tokens_match_transformers(width, height):
    from transformers import Qwen2VLImageProcessor

    rules = load_profile("qwen2-vl").processor
    processor = Qwen2VLImageProcessor(min_pixels=rules.image_min_pixels, max_pixels=rules.image_max_pixels)
    grid = processor(images=_frames(1, width, height), return_tensors="pt")["image_grid_thw"][0].tolist()
    assert load_profile("qwen2-vl").media_tokens(1, width, height, as_images=True) - rules.wrap_tokens == grid[0] * grid[1] * grid[2] // 4


@pytest.mark.processors
@needs_transformers
@pytest.mark.parametrize("frames,width,height", [(1, 448, 448), (1, 896, 896), (1, 1344, 448), (2, 896, 896), (1, 500, 1700), (3, 1800, 700)])
def test_internvl_tiles_match_transformers(frames, width, height):
    """transformers' GotOcr2 image processor crops InternVL's tiles; given InternVL's per-image tile limit it must agree."""
    from transformers import GotOcr2ImageProcessor

    rules = load_profile("internvl3").processor
    max_num = max(1, rules.max_dynamic_patch // frames)
    processor = GotOcr2ImageProcessor(crop_to_patches=True, min_patches=rules.min_dynamic_patch, max_patches=max_num, size={"height": 448, "width": 448})
    patches = processor(images=_frames(1, width, height), return_tensors="pt")["num_patches"][0]
    assert rules.tiles(width, height, max_num) == int(patches)


@pytest.mark.processors
@needs_transformers
@pytest.mark.parametrize("frames", [1, 8])
def test_llava_onevision_video_tokens_match_transformers(frames, tmp_path):
    from dataclasses import replace

    from transformers import LlavaOnevisionImageProcessor, LlavaOnevisionProcessor, LlavaOnevisionVideoProcessor

    tokenizer = tiny_tokenizer(tmp_path, ["<image>", "<video>"])
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(), video_processor=LlavaOnevisionVideoProcessor(), tokenizer=tokenizer,
        num_image_tokens=729, vision_feature_select_strategy="full", chat_template=None,
    )
    ids = processor(text=["<video> what?"], videos=[_frames(frames, 448, 448)], return_tensors="pt")["input_ids"][0].tolist()
    video_tokens = ids.count(tokenizer.convert_tokens_to_ids("<video>"))
    profile = load_profile("llava-video")
    one_token = replace(profile, processor=replace(profile.processor, newline="one_token"))
    assert one_token.media_tokens(frames, 448, 448) == video_tokens


def tiny_tokenizer(folder, special_tokens):
    """A word-level tokenizer that knows a few words and the given special tokens, saved and loaded like a hub one."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "what": 2, "?": 3}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", additional_special_tokens=special_tokens)
    tokenizer.save_pretrained(folder)
    return PreTrainedTokenizerFast.from_pretrained(folder)
