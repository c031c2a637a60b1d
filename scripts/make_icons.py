"""Draw Kail's app icon once with Pillow and derive every size the manifest needs from that one source.

Run `python scripts/make_icons.py` after changing the drawing; the PNGs are committed under static/img/.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "img"
GREEN, WHITE, GOLD = (11, 110, 79), (255, 255, 255), (245, 197, 66)


def source(size: int = 1024) -> Image.Image:
    """The hook on green, drawn at 1024 px; everything else is scaled from this."""
    s = size / 64  # the SVG icon's 64-unit grid
    image = Image.new("RGBA", (size, size), GREEN + (255,))
    draw = ImageDraw.Draw(image)
    w = round(6 * s)
    draw.line([(38 * s, 10 * s), (38 * s, 36 * s)], fill=WHITE, width=w)
    draw.arc([14 * s, 24 * s, 38 * s + w / 2, 48 * s + w / 2], start=0, end=180, fill=WHITE, width=w)
    draw.line([(14 * s + w / 2, 36 * s), (9 * s, 29 * s)], fill=WHITE, width=w)
    draw.ellipse([34 * s, 6 * s, 42 * s, 14 * s], fill=GOLD)
    return image


def rounded(image: Image.Image, radius_ratio: float = 0.22) -> Image.Image:
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, *image.size], radius=int(image.width * radius_ratio), fill=255)
    out = Image.new("RGBA", image.size, (0, 0, 0, 0))
    out.paste(image, mask=mask)
    return out


def main() -> None:
    src = source()
    for size in (192, 512):
        rounded(src).resize((size, size), Image.Resampling.LANCZOS).save(OUT / f"icon-{size}.png", optimize=True)
    # Maskable: full-bleed background, the drawing inside the central 80 % safe zone.
    maskable = Image.new("RGBA", src.size, GREEN + (255,))
    inner = src.resize((int(src.width * 0.72),) * 2, Image.Resampling.LANCZOS)
    offset = (src.width - inner.width) // 2
    maskable.paste(inner, (offset, offset))
    maskable.resize((512, 512), Image.Resampling.LANCZOS).save(OUT / "icon-maskable-512.png", optimize=True)
    rounded(src).resize((180, 180), Image.Resampling.LANCZOS).convert("RGB").save(OUT / "apple-touch-icon.png")


if __name__ == "__main__":
    main()
