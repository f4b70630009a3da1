"""The notebook-3 pipeline, run by the grader: OpenCV's Haar cascade finds faces, the student's net
places keypoints on each padded, gray, 224x224 crop, and the points are mapped back to the photo.

Scored on real photos (faces found) and on a collage of labelled test faces (NME of the points).
"""
from __future__ import annotations

import cv2
import numpy as np

from grader.checks.base import Context, Outcome, check, probe_failure
from grader.data import dataset, metrics
from grader.report import figures

TILE_HEIGHT = 300


def cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise RuntimeError(f"OpenCV's Haar cascade is missing at {path} (opencv-python-headless<5 ships it)")
    return classifier


def detect(gray: np.ndarray, cfg) -> list[tuple[int, int, int, int]]:
    found = cascade().detectMultiScale(gray, float(cfg["scale_factor"]), int(cfg["min_neighbors"]))
    return sorted((tuple(int(v) for v in box) for box in found), key=lambda b: (b[0], b[1]))


def padded_crop(gray: np.ndarray, box, padding: float, size: int = 224) -> tuple[np.ndarray, tuple]:
    """The padded face as a size x size float image in [0, 1], and (x0, y0, sx, sy) to map its pixels back."""
    x, y, w, h = box
    pad_x, pad_y = int(round(padding * w)), int(round(padding * h))
    x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
    x1, y1 = min(gray.shape[1], x + w + pad_x), min(gray.shape[0], y + h + pad_y)
    crop = cv2.resize(gray[y0:y1, x0:x1], (size, size)).astype(np.float32) / 255.0
    return crop, (x0, y0, (x1 - x0) / size, (y1 - y0) / size)


def to_photo(outputs: np.ndarray, geometry, to_pixels=dataset.denormalise) -> np.ndarray:
    """Net outputs (136,) in the net's keypoint units -> (68, 2) photo pixels."""
    x0, y0, sx, sy = geometry
    return to_pixels(outputs.reshape(68, 2)) * np.array([sx, sy]) + np.array([x0, y0])


def net_view(ctx: Context) -> tuple[int, object]:
    """The input size and units->pixels map the evaluation found (the contract's when it did not run)."""
    seen = ctx.state.get("eval_input")
    if seen is None:
        return ctx.submission.input_size, dataset.denormalise
    return int(seen.images.shape[-1]), seen.to_pixels


def build_collage(ctx: Context, count: int) -> tuple[np.ndarray, list, list[np.ndarray], list[str]]:
    """Labelled test faces side by side: (gray collage, tile boxes, true points in collage pixels, names)."""
    table = dataset.read_table(ctx.data_dir, "test")
    rng = np.random.default_rng(ctx.seed)
    tiles, truths, names = [], [], []
    for index in rng.permutation(len(table.names)):
        gray = dataset.read_gray(table.image_path(ctx.data_dir, index))
        if len(detect(gray, {"scale_factor": 1.2, "min_neighbors": 5})) != 1:
            continue  # keep faces the cascade sees clearly on their own
        scale = TILE_HEIGHT / gray.shape[0]
        tiles.append(cv2.resize(gray, (int(round(gray.shape[1] * scale)), TILE_HEIGHT)))
        truths.append(table.keypoints[index] * scale)
        names.append(table.names[index])
        if len(tiles) == count:
            break
    gap = 40
    width = sum(t.shape[1] for t in tiles) + gap * (len(tiles) + 1)
    canvas = np.full((TILE_HEIGHT + 2 * gap, width), 128, np.uint8)
    boxes, x = [], gap
    for tile, truth in zip(tiles, truths):
        canvas[gap : gap + TILE_HEIGHT, x : x + tile.shape[1]] = tile
        boxes.append((x, gap, tile.shape[1], TILE_HEIGHT))
        truth += np.array([x, gap])
        x += tile.shape[1] + gap
    return canvas, boxes, truths, names


def run_net(ctx: Context, crops: list[np.ndarray], name: str, cfg):
    result = ctx.sandbox.call("predict", {"images": ctx.sandbox.put_array(name, np.stack(crops)[:, None]),
                                          "output": f"{name}_out"}, timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, "Running the trained net on detected faces")
    outputs = ctx.sandbox.get_array(result.value["outputs"])
    if outputs.shape != (len(crops), 136) or not np.isfinite(outputs).all():
        return Outcome(0.0, f"The net returned {outputs.shape} (finite: {bool(np.isfinite(outputs).all())}) for "
                            f"{len(crops)} face crops; expected ({len(crops)}, 136), finite.", "See model.output_shape.")
    return outputs


def photos_part(ctx: Context, cfg, artifacts: list[str]) -> tuple[dict, Outcome | None]:
    found = {}
    for photo, expected in dict(cfg["photos"]).items():
        path = dataset.samples_dir(ctx.data_dir) / photo
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise RuntimeError(f"{path}: sample photo missing; run `make data`")
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = detect(gray, cfg)
        found[photo] = {"expected": int(expected), "found": len(boxes)}
        if not boxes:
            continue
        size, to_pixels = net_view(ctx)
        crops, geometry = zip(*(padded_crop(gray, b, float(cfg["padding"]), size) for b in boxes))
        outputs = run_net(ctx, list(crops), f"photo_{path.stem}", cfg)
        if isinstance(outputs, Outcome):
            return found, outputs
        points = [to_photo(o, g, to_pixels) for o, g in zip(outputs, geometry)]
        picture = ctx.artifact(f"haar_{path.stem}.png")
        figures.detections(bgr[:, :, ::-1], boxes, points, picture)
        artifacts.append(ctx.ref(picture))
    return found, None


@check("detection.haar_cnn", "Haar cascade + trained net on real photos", requires=("weights.load", "model.output_shape"))
def haar_cnn(ctx: Context, cfg) -> Outcome:
    artifacts: list[str] = []
    found, failure = photos_part(ctx, cfg, artifacts)
    if failure:
        return failure
    collage, tiles, truths, names = build_collage(ctx, int(cfg["collage_faces"]))
    size, to_pixels = net_view(ctx)
    boxes = detect(collage, cfg)
    matched, preds, trues, crops, geometry = [], [], [], [], []
    for (tx, ty, tw, th), truth in zip(tiles, truths):
        inside = [b for b in boxes if tx <= b[0] + b[2] / 2 <= tx + tw and ty <= b[1] + b[3] / 2 <= ty + th]
        if inside:
            box = max(inside, key=lambda b: b[2] * b[3])
            crop, geo = padded_crop(collage, box, float(cfg["padding"]), size)
            matched.append(box), crops.append(crop), geometry.append(geo), trues.append(truth)
    nme = None
    if crops:
        outputs = run_net(ctx, crops, "collage", cfg)
        if isinstance(outputs, Outcome):
            return outputs
        preds = [to_photo(o, g, to_pixels) for o, g in zip(outputs, geometry)]
        nme = float(metrics.nme_per_image(np.stack(preds), np.stack(trues)).mean())
        picture = ctx.artifact("haar_collage.png")
        figures.detections(np.dstack([collage] * 3), matched, preds, picture, truths=trues)
        artifacts.append(ctx.ref(picture))
    details = {"photos": found, "collage_faces": names, "collage_found": len(crops), "collage_nme": nme,
               "max_nme": float(cfg["max_nme"]), "padding": float(cfg["padding"])}
    ctx.metrics["haar_collage_nme"] = nme
    photos_ok = all(v["found"] >= v["expected"] for v in found.values())
    collage_ok = len(crops) == len(tiles) and nme is not None and nme <= float(cfg["max_nme"])
    listing = ", ".join(f"{k}: {v['found']} of {v['expected']}" for k, v in found.items())
    nme_text = f"{100 * nme:.1f} %" if nme is not None else "n/a"
    message = (f"Faces found: {listing}; collage of {len(tiles)} labelled test faces: {len(crops)} found, keypoint NME "
               f"{nme_text} (at most {100 * float(cfg['max_nme']):.0f} % passes).")
    fraction = 0.4 * photos_ok + 0.6 * collage_ok
    hint = "" if fraction == 1 else (
        "The grader crops each face box padded by {:.0%} on every side, converts it to gray, resizes to 224x224 and "
        "divides by 255, like notebook 3. If the points drift off the faces, train with scale/shift augmentation so "
        "the net copes with such crops.".format(float(cfg["padding"])))
    return Outcome(fraction, message, hint, details=details, artifacts=artifacts)
