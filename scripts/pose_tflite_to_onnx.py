"""Convert MediaPipe's BlazePose and BlazeFace ``.tflite`` models to ONNX for onnxruntime (``models/pose/``).

Neither ``tflite2onnx`` nor ``tf2onnx`` reads these models: their weights are stored sparse and in float16
(``DENSIFY`` and ``DEQUANTIZE`` ops). This converter lets the TFLite interpreter itself densify and dequantize
them (one invocation with every tensor preserved), then writes the few compute ops the two models use
(``CONV_2D``, ``DEPTHWISE_CONV_2D``, ``ADD``, ``PAD``, ``MAX_POOL_2D``, ``RESIZE_BILINEAR``, ``DEPTH_TO_SPACE``,
``RESHAPE``, ``CONCATENATION``, ``LOGISTIC``, ``RELU``) as an NCHW ONNX graph with a free batch dimension, keeping only
the outputs asked for. Weights that were float16 stay float16 (lossless; a ``Cast`` onnxruntime folds at load).
Then it checks the ONNX model against the TFLite one on real and random images.

Throwaway tooling, not a dependency of the bot; run it in its own venv (the project's needs nothing of it)::

    python -m venv /tmp/pose/venv
    /tmp/pose/venv/bin/pip install ai-edge-litert tflite onnx onnxruntime pillow
    pip download mediapipe==0.10.21 --no-deps -d /tmp/pose/wheel
    unzip -j /tmp/pose/wheel/mediapipe-0.10.21-*.whl 'mediapipe/modules/pose_detection/pose_detection.tflite' \
        'mediapipe/modules/pose_landmark/pose_landmark_full.tflite' \
        'mediapipe/modules/face_detection/face_detection_short_range.tflite' \
        'mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite' -d /tmp/pose/tflite
    /tmp/pose/venv/bin/python scripts/pose_tflite_to_onnx.py /tmp/pose/tflite models/pose
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import tflite
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from onnx import TensorProto, helper, numpy_helper

# (tflite file, onnx file, {tflite output name: onnx output name}); the others (segmentation, heatmap, world
# landmarks) are left out, and so is every op only they need.
MODELS = [
    ("pose_detection.tflite", "pose_detection.onnx", {"Identity": "regressors", "Identity_1": "scores"}),
    ("pose_landmark_full.tflite", "pose_landmark_full.onnx", {"Identity": "landmarks", "Identity_1": "presence"}),
    ("face_detection_short_range.tflite", "face_detection_short_range.onnx",
     {"regressors": "regressors", "classificators": "scores"}),
    ("face_detection_full_range_sparse.tflite", "face_detection_full_range.onnx",
     {"Identity": "regressors", "Identity_1": "scores"}),
]
NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]
NHWC_AXIS_IN_NCHW = {0: 0, 1: 2, 2: 3, 3: 1}
OPSET = 17


def builtin_name(model: tflite.Model, operator: tflite.Operator) -> str:
    code = model.OperatorCodes(operator.OpcodeIndex())
    number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    return next(name for name, value in vars(tflite.BuiltinOperator).items() if value == number)


def options(operator: tflite.Operator, kind):
    table = operator.BuiltinOptions()
    value = kind()
    value.Init(table.Bytes, table.Pos)
    return value


class Converter:
    def __init__(self, path: Path) -> None:
        self.model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
        self.graph = self.model.Subgraphs(0)
        self.interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                                       experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self.interpreter.allocate_tensors()
        feed = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(feed["index"], np.zeros(feed["shape"], np.float32))
        self.interpreter.invoke()  # densifies and dequantizes the weights, which get_tensor then reads
        self.details = {detail["index"]: detail for detail in self.interpreter.get_tensor_details()}
        self.constants = self._constant_tensors()
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.names: dict[int, str] = {}

    def _constant_tensors(self) -> set[int]:
        """Tensors with data in the file, and what ops compute from them alone (the densified, dequantized weights)."""
        constant = {index for index in range(self.graph.TensorsLength())
                    if self.model.Buffers(self.graph.Tensors(index).Buffer()).DataLength() > 0}
        for position in range(self.graph.OperatorsLength()):
            operator = self.graph.Operators(position)
            inputs = [index for index in operator.InputsAsNumpy() if index >= 0]
            if inputs and all(index in constant for index in inputs):
                constant.update(operator.OutputsAsNumpy().tolist())
        return constant

    def shape(self, index: int) -> list[int]:
        return [int(size) for size in self.details[index]["shape"]]

    def value(self, index: int) -> np.ndarray:
        return np.array(self.interpreter.get_tensor(index))

    def constant(self, value: np.ndarray, name: str, float16_ok: bool = True) -> str:
        """An initializer; float weights that float16 holds exactly are stored as float16 and cast back."""
        if value.dtype == np.float32 and float16_ok and np.array_equal(value.astype(np.float16).astype(np.float32),
                                                                       value):
            self.initializers.append(numpy_helper.from_array(value.astype(np.float16), name + "_f16"))
            self.nodes.append(helper.make_node("Cast", [name + "_f16"], [name], to=TensorProto.FLOAT))
        else:
            self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def emit(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def activate(self, value: str, code: int, output: str) -> str:
        if code == tflite.ActivationFunctionType.NONE:
            return self.emit("Identity", [value], output)
        if code == tflite.ActivationFunctionType.RELU:
            return self.emit("Relu", [value], output)
        if code == tflite.ActivationFunctionType.RELU6:
            low, high = self.constant(np.array(0, np.float32), output + "_lo", False), self.constant(
                np.array(6, np.float32), output + "_hi", False)
            return self.emit("Clip", [value, low, high], output)
        raise NotImplementedError(f"fused activation {code}")

    def same_pads(self, in_shape: list[int], out_shape: list[int], kernel: tuple[int, int],
                  strides: tuple[int, int], dilations: tuple[int, int], padding: int) -> list[int]:
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        begins, ends = [], []
        for axis in (0, 1):  # height, width
            total = max((out_shape[1 + axis] - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1
                        - in_shape[1 + axis], 0)
            begins.append(total // 2)
            ends.append(total - total // 2)
        return begins + ends

    def convert(self, outputs: dict[str, str]) -> onnx.ModelProto:
        feed = self.interpreter.get_input_details()[0]
        _, height, width, channels = (int(size) for size in feed["shape"])
        self.names[int(feed["index"])] = "image"
        wanted = {int(detail["index"]): outputs[detail["name"]] for detail in self.interpreter.get_output_details()
                  if detail["name"] in outputs}
        for position in range(self.graph.OperatorsLength()):
            operator = self.graph.Operators(position)
            if all(index in self.constants for index in operator.OutputsAsNumpy()):
                continue
            self.operator(operator)
        graph_outputs = []
        for index, name in wanted.items():
            rank = len(self.shape(index))
            source = self.names[index]
            if rank == 4:
                source = self.emit("Transpose", [source], name + "_nhwc", perm=NCHW_TO_NHWC)
            self.emit("Identity", [source], name)
            shape = ["batch", *self.shape(index)[1:]]
            graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        graph = helper.make_graph(self.nodes, "blazepose", [helper.make_tensor_value_info(
            "image", TensorProto.FLOAT, ["batch", channels, height, width])], graph_outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="fashionbot scripts/pose_tflite_to_onnx.py")
        model.ir_version = 8
        return prune(model)

    def operator(self, operator: tflite.Operator) -> None:
        name = builtin_name(self.model, operator)
        inputs = [int(index) for index in operator.InputsAsNumpy()]
        output = int(operator.OutputsAsNumpy()[0])
        out = f"t{output}"
        self.names[output] = out
        source = self.names.get(inputs[0])
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            weight = self.value(inputs[1])
            if name == "CONV_2D":
                option = options(operator, tflite.Conv2DOptions)
                kernel, group = weight.transpose(0, 3, 1, 2), 1
            else:
                option = options(operator, tflite.DepthwiseConv2DOptions)
                kernel, group = weight.transpose(3, 0, 1, 2), self.shape(inputs[0])[3]
            strides = (option.StrideH(), option.StrideW())
            dilations = (option.DilationHFactor(), option.DilationWFactor())
            pads = self.same_pads(self.shape(inputs[0]), self.shape(output), tuple(kernel.shape[2:]), strides,
                                  dilations, option.Padding())
            arguments = [source, self.constant(kernel, out + "_w")]
            if len(inputs) > 2 and inputs[2] >= 0:
                arguments.append(self.constant(self.value(inputs[2]), out + "_b"))
            conv = self.emit("Conv", arguments, out + "_conv", strides=list(strides), dilations=list(dilations),
                             pads=pads, group=group, kernel_shape=list(kernel.shape[2:]))
            self.activate(conv, option.FusedActivationFunction(), out)
        elif name == "MAX_POOL_2D":
            option = options(operator, tflite.Pool2DOptions)
            kernel, strides = (option.FilterHeight(), option.FilterWidth()), (option.StrideH(), option.StrideW())
            pads = self.same_pads(self.shape(inputs[0]), self.shape(output), kernel, strides, (1, 1),
                                  option.Padding())
            pool = self.emit("MaxPool", [source], out + "_pool", kernel_shape=list(kernel), strides=list(strides),
                             pads=pads)
            self.activate(pool, option.FusedActivationFunction(), out)
        elif name == "ADD":
            option = options(operator, tflite.AddOptions)
            operands = [self.operand(index, out + f"_in{i}", rank=len(self.shape(output)))
                        for i, index in enumerate(inputs)]
            self.activate(self.emit("Add", operands, out + "_add"), option.FusedActivationFunction(), out)
        elif name == "PAD":
            pads = self.value(inputs[1]).astype(np.int64)  # (4, 2): NHWC (before, after)
            order = [0, 3, 1, 2]
            flat = [int(pads[axis, 0]) for axis in order] + [int(pads[axis, 1]) for axis in order]
            self.emit("Pad", [source, self.constant(np.array(flat, np.int64), out + "_pads")], out, mode="constant")
        elif name == "RESIZE_BILINEAR":
            option = options(operator, tflite.ResizeBilinearOptions)
            mode = ("align_corners" if option.AlignCorners() else
                    "half_pixel" if option.HalfPixelCenters() else "asymmetric")
            before, after = self.shape(inputs[0]), self.shape(output)
            scales = np.array([1, 1, after[1] / before[1], after[2] / before[2]], np.float32)
            self.emit("Resize", [source, "", self.constant(scales, out + "_scales", False)], out, mode="linear",
                      coordinate_transformation_mode=mode)
        elif name == "DEPTH_TO_SPACE":
            option = options(operator, tflite.DepthToSpaceOptions)
            self.emit("DepthToSpace", [source], out, blocksize=option.BlockSize(), mode="DCR")
        elif name == "RESHAPE":
            if len(self.shape(inputs[0])) == 4:
                source = self.emit("Transpose", [source], out + "_nhwc", perm=NCHW_TO_NHWC)
            target = [0, *self.shape(output)[1:]]  # 0: the batch, whatever it is
            if len(target) == 4:
                reshaped = self.emit("Reshape", [source, self.constant(np.array(target, np.int64), out + "_shape")],
                                     out + "_reshaped")
                self.emit("Transpose", [reshaped], out, perm=NHWC_TO_NCHW)
            else:
                self.emit("Reshape", [source, self.constant(np.array(target, np.int64), out + "_shape")], out)
        elif name == "CONCATENATION":
            option = options(operator, tflite.ConcatenationOptions)
            rank = len(self.shape(output))
            axis = option.Axis() % rank
            if rank == 4:
                axis = NHWC_AXIS_IN_NCHW[axis]
            concat = self.emit("Concat", [self.names[index] for index in inputs], out + "_concat", axis=axis)
            self.activate(concat, option.FusedActivationFunction(), out)
        elif name == "LOGISTIC":
            self.emit("Sigmoid", [source], out)
        elif name == "RELU":
            self.emit("Relu", [source], out)
        else:
            raise NotImplementedError(f"TFLite op {name}")

    def operand(self, index: int, name: str, rank: int) -> str:
        if index not in self.constants:
            return self.names[index]
        value = self.value(index)
        if rank == 4 and value.ndim == 4:
            value = value.transpose(0, 3, 1, 2)
        elif rank == 4 and value.ndim == 1:
            value = value.reshape(1, -1, 1, 1)
        return self.constant(value, name)


def prune(model: onnx.ModelProto) -> onnx.ModelProto:
    """Only the nodes and initializers the kept outputs need."""
    graph = model.graph
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    kept.reverse()
    initializers = [tensor for tensor in graph.initializer if tensor.name in needed]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.checker.check_model(model)
    return model


def check(tflite_path: Path, onnx_path: Path, outputs: dict[str, str], images: list[np.ndarray]) -> None:
    """The ONNX model's outputs next to the TFLite interpreter's (XNNPACK, as MediaPipe runs it)."""
    import onnxruntime

    interpreter = Interpreter(model_path=str(tflite_path))
    interpreter.allocate_tensors()
    feed = interpreter.get_input_details()[0]
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst: dict[str, float] = {}
    for image in images:
        interpreter.set_tensor(feed["index"], image[None])
        interpreter.invoke()
        expected = {outputs[detail["name"]]: interpreter.get_tensor(detail["index"])
                    for detail in interpreter.get_output_details() if detail["name"] in outputs}
        got = dict(zip([o.name for o in session.get_outputs()],
                       session.run(None, {"image": image.transpose(2, 0, 1)[None]}), strict=True))
        for name, value in expected.items():
            scale = max(float(np.abs(value).max()), 1e-6)
            worst[name] = max(worst.get(name, 0.0), float(np.abs(got[name] - value).max()) / scale)
    print(f"  {onnx_path.name}: worst |onnx - tflite| / max|tflite| over {len(images)} images: "
          + ", ".join(f"{name} {error:.2e}" for name, error in worst.items()))


def sample_images(size: int, low: float, photos: list[Path]) -> list[np.ndarray]:
    from PIL import Image

    rng = np.random.default_rng(0)
    images = [rng.uniform(low, 1, (size, size, 3)).astype(np.float32)]
    for photo in photos:
        pixels = np.asarray(Image.open(photo).convert("RGB").resize((size, size)), np.float32) / 255
        images.append((pixels * (1 - low) + low).astype(np.float32))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tflite_dir", type=Path)
    parser.add_argument("onnx_dir", type=Path)
    parser.add_argument("--check", type=Path, nargs="*", default=[], help="photos to compare the outputs on")
    args = parser.parse_args()
    args.onnx_dir.mkdir(parents=True, exist_ok=True)
    for tflite_name, onnx_name, outputs in MODELS:
        model = Converter(args.tflite_dir / tflite_name).convert(outputs)
        onnx.save(model, args.onnx_dir / onnx_name)
        print(f"{onnx_name}: {len(model.graph.node)} nodes, {(args.onnx_dir / onnx_name).stat().st_size} bytes")
        # The detectors take [-1, 1], the landmark model [0, 1] (MediaPipe's graphs).
        size = {"pose_detection": 224, "pose_landmark_full": 256, "face_detection_short_range": 128,
                "face_detection_full_range_sparse": 192}[tflite_name.removesuffix(".tflite")]
        low = -1.0 if "detection" in tflite_name else 0.0
        check(args.tflite_dir / tflite_name, args.onnx_dir / onnx_name, outputs, sample_images(size, low, args.check))


if __name__ == "__main__":
    sys.exit(main())
