//! From raw BlazeFace outputs to faces: anchors, box decoding, weighted NMS.
//! The constants are MediaPipe's published face-detection settings.

use super::model::ModelKind;

/// One anchor centre in normalised [0, 1] coordinates (anchor size is fixed at 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Anchor {
    pub x: f32,
    pub y: f32,
}

/// MediaPipe's SsdAnchorsCalculator for BlazeFace: four layers, aspect ratio
/// 1 plus one interpolated scale, fixed anchor size. Layers that share a stride
/// share a grid, so each cell gets two anchors per layer of that stride.
pub(crate) fn anchors(kind: ModelKind) -> Vec<Anchor> {
    let size = kind.input_size();
    let strides = kind.strides();
    let mut out = Vec::with_capacity(896);
    let mut layer = 0;
    while layer < strides.len() {
        let stride = strides[layer];
        let mut same = layer;
        while same < strides.len() && strides[same] == stride {
            same += 1;
        }
        let per_cell = 2 * (same - layer);
        let cells = size.div_ceil(stride);
        for y in 0..cells {
            for x in 0..cells {
                for _ in 0..per_cell {
                    out.push(Anchor {
                        x: (x as f32 + 0.5) / cells as f32,
                        y: (y as f32 + 0.5) / cells as f32,
                    });
                }
            }
        }
        layer = same;
    }
    out
}

/// A detection in the model's normalised [0, 1] input frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawDetection {
    pub score: f32,
    /// x_min, y_min, x_max, y_max
    pub bbox: [f32; 4],
    /// Right eye, left eye, nose tip, mouth, right ear, left ear (subject's sides).
    pub keypoints: [[f32; 2]; 6],
}

/// MediaPipe clips logits to ±100 before the sigmoid.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}

/// Decodes every anchor whose score reaches `min_score`.
///
/// Never inlined: see `Net::run`.
#[inline(never)]
pub(crate) fn decode(
    kind: ModelKind,
    anchors: &[Anchor],
    scores: &[f32],
    boxes: &[f32],
    min_score: f32,
) -> Vec<RawDetection> {
    let scale = kind.input_size() as f32;
    // Nearly every anchor of a photo scores far below `min_score`: those are
    // told apart on the logit, without an `exp` each (896 a detection). The
    // cut sits 0.01 under the threshold's logit, which the f32 rounding of
    // the sigmoid cannot reach up to a threshold of 0.99 (there one ulp of
    // the score is 6e-6 of logit); anything above the cut takes the exact
    // test below, so the output is the same.
    let skip_below = if min_score > 0.0 && min_score <= 0.99 {
        (min_score / (1.0 - min_score)).ln() - 0.01
    } else {
        f32::NEG_INFINITY
    };
    let mut out = Vec::new();
    for (i, a) in anchors.iter().enumerate() {
        let (Some(&logit), Some(r)) = (scores.get(i), boxes.get(i * 16..i * 16 + 16)) else {
            break;
        };
        if logit < skip_below {
            continue;
        }
        let score = sigmoid(logit);
        if score < min_score || !score.is_finite() {
            continue;
        }
        let cx = r[0] / scale + a.x;
        let cy = r[1] / scale + a.y;
        let w = r[2] / scale;
        let h = r[3] / scale;
        if !(cx.is_finite()
            && cy.is_finite()
            && w > 0.0
            && h > 0.0
            && w.is_finite()
            && h.is_finite())
        {
            continue;
        }
        let mut keypoints = [[0.0; 2]; 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = [r[4 + 2 * k] / scale + a.x, r[5 + 2 * k] / scale + a.y];
        }
        out.push(RawDetection {
            score,
            bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            keypoints,
        });
    }
    out
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// MediaPipe's weighted non-maximum suppression: take the best remaining
/// detection, average it with every detection overlapping it by more than
/// `iou_threshold` (weights = scores), keep the best score. More stable boxes
/// than plain NMS, which matters for a live overlay and for cropping.
pub(crate) fn weighted_nms(mut dets: Vec<RawDetection>, iou_threshold: f32) -> Vec<RawDetection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !dets.is_empty() {
        // The top detection always leaves `dets` with its cluster: a box
        // whose IoU with itself is not above the threshold (zero area, NaN,
        // infinite: what a hostile network gives) once stayed there for
        // ever, and `out` grew until memory ran out (found by `fuzz/fbnet`).
        let top = dets.remove(0);
        let (more, rest): (Vec<_>, Vec<_>) = dets
            .into_iter()
            .partition(|d| iou(&top.bbox, &d.bbox) > iou_threshold);
        dets = rest;
        let mut cluster = Vec::with_capacity(more.len() + 1);
        cluster.push(top);
        cluster.extend(more);
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        if cluster.len() <= 1 || total <= 0.0 {
            out.push(top);
            continue;
        }
        let mut merged = RawDetection {
            score: top.score,
            bbox: [0.0; 4],
            keypoints: [[0.0; 2]; 6],
        };
        for d in &cluster {
            let w = d.score / total;
            for i in 0..4 {
                merged.bbox[i] += d.bbox[i] * w;
            }
            for k in 0..6 {
                merged.keypoints[k][0] += d.keypoints[k][0] * w;
                merged.keypoints[k][1] += d.keypoints[k][1] * w;
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_mediapipe_layout() {
        for kind in [ModelKind::Short, ModelKind::Full] {
            let a = anchors(kind);
            assert_eq!(a.len(), 896);
            // First fine cell: two anchors at the centre of a 16×16 grid's first cell.
            assert_eq!(
                a[0],
                Anchor {
                    x: 0.5 / 16.0,
                    y: 0.5 / 16.0
                }
            );
            assert_eq!(a[1], a[0]);
            assert_eq!(
                a[2],
                Anchor {
                    x: 1.5 / 16.0,
                    y: 0.5 / 16.0
                }
            );
            // First coarse cell: six anchors on an 8×8 grid.
            assert_eq!(
                a[512],
                Anchor {
                    x: 0.5 / 8.0,
                    y: 0.5 / 8.0
                }
            );
            assert_eq!(a[517], a[512]);
            assert_eq!(
                a[518],
                Anchor {
                    x: 1.5 / 8.0,
                    y: 0.5 / 8.0
                }
            );
            assert_eq!(
                *a.last().unwrap(),
                Anchor {
                    x: 7.5 / 8.0,
                    y: 7.5 / 8.0
                }
            );
        }
    }

    fn det(score: f32, x: f32) -> RawDetection {
        RawDetection {
            score,
            bbox: [x, 0.0, x + 0.2, 0.2],
            keypoints: [[x, 0.1]; 6],
        }
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![det(0.6, 0.02), det(0.9, 0.0), det(0.8, 0.5)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let want = (0.9 * 0.0 + 0.6 * 0.02) / 1.5;
        assert!((out[0].bbox[0] - want).abs() < 1e-6);
        assert_eq!(out[1], det(0.8, 0.5));
        assert!(weighted_nms(vec![], 0.3).is_empty());
    }

    #[test]
    fn weighted_nms_ends_on_boxes_that_do_not_overlap_themselves() {
        // Zero-area, NaN and infinite boxes: IoU with itself is 0 or NaN.
        let mut odd = vec![det(0.9, 0.1), det(0.8, 0.2), det(0.7, 0.3)];
        odd[0].bbox = [0.5, 0.5, 0.5, 0.5];
        odd[1].bbox = [f32::NAN; 4];
        odd[2].bbox = [f32::NEG_INFINITY, 0.0, f32::INFINITY, 1.0];
        let out = weighted_nms(odd, 0.3);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn decode_applies_anchor_offsets_and_threshold() {
        let kind = ModelKind::Short;
        let a = anchors(kind);
        let mut scores = vec![-10.0; 896];
        let mut boxes = vec![0.0; 896 * 16];
        scores[5] = 10.0;
        boxes[5 * 16..5 * 16 + 4].copy_from_slice(&[12.8, 0.0, 25.6, 25.6]);
        let d = decode(kind, &a, &scores, &boxes, 0.5);
        assert_eq!(d.len(), 1);
        let cx = a[5].x + 0.1;
        assert!(
            (d[0].bbox[0] - (cx - 0.1)).abs() < 1e-6 && (d[0].bbox[2] - (cx + 0.1)).abs() < 1e-6
        );
        // The logit cut keeps exactly what the score test keeps, around
        // every threshold it applies to and past them.
        let sized: Vec<f32> = (0..896 * 16)
            .map(|k| {
                if k % 16 == 2 || k % 16 == 3 {
                    25.6
                } else {
                    0.0
                }
            })
            .collect();
        for t in [
            1e-4f32, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.995, 1.0, 0.0,
        ] {
            let at = if t > 0.0 && t < 1.0 {
                (t / (1.0 - t)).ln()
            } else {
                0.0
            };
            let logits: Vec<f32> = (0..896).map(|i| at + (i as f32 - 448.0) * 1e-4).collect();
            let kept = decode(kind, &a, &logits, &sized, t).len();
            let want = logits.iter().filter(|&&l| sigmoid(l) >= t).count();
            assert_eq!(kept, want, "threshold {t}");
        }
        // NaN logits and degenerate boxes are dropped, not propagated.
        scores[5] = f32::NAN;
        assert!(decode(kind, &a, &scores, &boxes, 0.5).is_empty());
    }
}
