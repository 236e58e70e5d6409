"""Adds TFLite normalisation metadata (mean 127.5, std 127.5, RGB) to a
BlazeFace .tflite, which @mediapipe/tasks-vision@20230920.0.0 requires and
the model that @mediapipe/face_detection ships lacks.

    python add_tflite_metadata.py in.tflite out.tflite
"""
import sys

from tensorflow_lite_support.metadata import metadata_schema_py_generated as md_fb
from tensorflow_lite_support.metadata.python.metadata_writers import (
    metadata_info,
    metadata_writer,
    writer_utils,
)

src, dst = sys.argv[1], sys.argv[2]
model = writer_utils.load_file(src)
image = metadata_info.InputImageTensorMd(
    name="image",
    description="RGB image, scaled to [-1, 1]",
    norm_mean=[127.5],
    norm_std=[127.5],
    color_space_type=md_fb.ColorSpaceType.RGB,
    tensor_type=writer_utils.get_input_tensor_types(model)[0],
)
outputs = [
    metadata_info.TensorMd(name="regressors", description="box and keypoint offsets per anchor"),
    metadata_info.TensorMd(name="classificators", description="face score per anchor (logit)"),
]
writer = metadata_writer.MetadataWriter.create_from_metadata_info(
    model_buffer=model,
    general_md=metadata_info.GeneralMd(name="BlazeFace short-range", description="face detector"),
    input_md=[image],
    output_md=outputs,
)
writer_utils.save_file(writer.populate(), dst)
print(f"{dst}: {len(writer.populate())} bytes with metadata")
