"""`t2vid diversity --map`: a 2-D map of instruction vectors, one colour per dataset.

Numbers say how varied instructions are; a map shows *how*: templated data
falls into a few tight islands (one per template), varied data spreads out.
Vectors are TF-IDF of word 1+2-grams reduced to 50 dimensions with truncated
SVD, or sentence embeddings with --embeddings, projected to 2-D with t-SNE
(scikit-learn, the optional `map` extra). At most MAP_POINTS instructions per
dataset are drawn, the same ones on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from t2vid.errors import UsageError
from t2vid.inspect.diversity import ngrams, sentence_embeddings, tokenize

MAP_POINTS = 1500
SVD_DIMENSIONS = 50
SIZE = (1200, 860)
PLOT = (30, 70, 830, 830)  # left, top, right, bottom of the scatter area
PALETTE = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (213, 94, 0), (86, 180, 233), (120, 120, 120), (240, 228, 66))  # Okabe-Ito
TEXT = (30, 30, 30)


@dataclass(frozen=True)
class MapInput:
    name: str
    instructions: list[str]


def _sample(instructions: list[str], seed: int) -> list[str]:
    if len(instructions) <= MAP_POINTS:
        return list(instructions)
    picked = sorted(random.Random(seed).sample(range(len(instructions)), MAP_POINTS))
    return [instructions[i] for i in picked]


def _grams(text: str) -> list[str]:
    tokens = tokenize(text)
    return tokens + [" ".join(pair) for pair in ngrams(tokens, 2)]


def project(texts: list[str], embeddings: str | None = None, seed: int = 0):
    """2-D t-SNE coordinates of `texts` (an n x 2 array)."""
    try:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.manifold import TSNE
    except ImportError:
        raise UsageError("--map needs scikit-learn: pip install 't2vid[map]'") from None
    if len(texts) < 4:
        raise UsageError(f"--map needs at least 4 instructions in all, not {len(texts)}")
    if embeddings:
        vectors = sentence_embeddings(texts, embeddings)
    else:
        vectors = TfidfVectorizer(analyzer=_grams, sublinear_tf=True).fit_transform(texts)
        if vectors.shape[1] > SVD_DIMENSIONS:
            vectors = TruncatedSVD(SVD_DIMENSIONS, random_state=seed).fit_transform(vectors)
        else:
            vectors = vectors.toarray()
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    perplexity = min(30.0, (len(texts) - 1) / 3)
    with threadpool_limits(1):  # one thread: the same map on every machine, and no spinning threads on a busy one (3x faster here)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=1).fit_transform(vectors)


def instruction_map(inputs: list[MapInput], embeddings: str | None = None, seed: int = 0, title: str | None = None):
    """The map as a Pillow image: each input its colour, a legend with how many of its instructions are drawn."""
    from PIL import Image, ImageDraw

    from t2vid.fonts import load_font, resolve_face

    if len(inputs) > len(PALETTE):
        raise UsageError(f"--map draws at most {len(PALETTE)} inputs, not {len(inputs)}")
    drawn = [_sample(item.instructions, seed) for item in inputs]
    texts = [text for group in drawn for text in group]
    owner = [n for n, group in enumerate(drawn) for _ in group]
    points = project(texts, embeddings, seed)
    left, top, right, bottom = PLOT
    xs, ys = points[:, 0], points[:, 1]
    span = max(float(xs.max() - xs.min()), float(ys.max() - ys.min()), 1e-9)
    scale = (min(right - left, bottom - top) - 20) / span
    cx, cy = (float(xs.max() + xs.min()) / 2, float(ys.max() + ys.min()) / 2)

    image = Image.new("RGB", SIZE, "white")
    layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    dots = ImageDraw.Draw(layer)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)  # no dataset is always drawn on top
    for i in order:
        x = (left + right) / 2 + (float(xs[i]) - cx) * scale
        y = (top + bottom) / 2 - (float(ys[i]) - cy) * scale
        dots.ellipse((x - 3.5, y - 3.5, x + 3.5, y + 3.5), fill=(*PALETTE[owner[i]], 170))
    image.paste(layer, (0, 0), layer)

    draw = ImageDraw.Draw(image)
    face = resolve_face(None)
    small, large = load_font(face, 15), load_font(face, 19)
    method = f"sentence embeddings ({embeddings})" if embeddings else "TF-IDF of word 1+2-grams"
    draw.text((left, 22), title or f"Instruction map: t-SNE of {method}", fill=TEXT, font=large)
    draw.rectangle(PLOT, outline=(200, 200, 200))
    y = top
    for n, (item, group) in enumerate(zip(inputs, drawn)):
        draw.rectangle((right + 30, y + 3, right + 46, y + 19), fill=PALETTE[n])
        shown = f"{len(group)} of {len(item.instructions)}" if len(group) < len(item.instructions) else str(len(group))
        draw.text((right + 56, y), item.name, fill=TEXT, font=large)
        draw.text((right + 56, y + 24), f"{shown} instructions", fill=TEXT, font=small)
        y += 60
    return image
