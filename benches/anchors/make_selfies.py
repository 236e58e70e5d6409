"""Makes selfie-like 640x480 frames from the group photos: one per face of
sample1-6, cropped around the face so that it fills about a third of the
frame width, as in a selfie. Box agreement between BlazeFace builds is judged
on these: in the group photos the faces are about 18 px in the 128x128 input,
where a fraction of an input pixel moves a box a lot.

The crops are centred on the faces that `facebridge detect --model full
--tiles auto` finds; which faces get a frame is the only thing our detector
decides, the boxes compared are each library's own on the crop.

    python3 make_selfies.py <facebridge binary> <photos dir> <out dir>
"""
import json
import subprocess
import sys
from pathlib import Path

binary, photos, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
W, H = 640, 480
names = []
for i in range(1, 7):
    photo = photos / f"sample{i}.jpg"
    report = json.loads(
        subprocess.run(
            [binary, "detect", str(photo), "--model", "full", "--tiles", "auto"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    size = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height", "-of", "csv=p=0", str(photo)],
        check=True, capture_output=True, text=True,
    ).stdout.strip().split(",")
    iw, ih = int(size[0]), int(size[1])
    for k, face in enumerate(report["faces"]):
        b = face["box"]
        cw = min(3.0 * b["w"], iw, ih * W / H)
        ch = cw * H / W
        cx = min(max(b["x"] + b["w"] / 2, cw / 2), iw - cw / 2)
        cy = min(max(b["y"] + b["h"] / 2, ch / 2), ih - ch / 2)
        x0, y0 = round(cx - cw / 2), round(cy - ch / 2)
        name = f"sample{i}-face{k + 1}.jpg"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(photo), "-vf",
             f"crop={round(cw)}:{round(ch)}:{x0}:{y0},scale={W}:{H}:flags=bicubic",
             "-q:v", "3", str(out / name)],
            check=True,
        )
        names.append(name)
(out / "index.json").write_text(json.dumps(names))
print(f"{len(names)} selfie-like frames in {out}", file=sys.stderr)
