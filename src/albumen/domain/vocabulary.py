"""The words people use for what a model sees.

A classifier says ``malamute`` or ``n02110063``; a person types ``dog``. Each model label becomes
a clean tag (its first, everyday synonym) plus its everyday parents, so ``dog`` finds every
breed and ``malamute`` still finds the malamute.
"""

from __future__ import annotations

# ImageNet-1k classes by index: inclusive ranges and the parents every class in them shares.
_IMAGENET_RANGES: list[tuple[int, int, str]] = [
    (0, 6, "fish animal"),
    (7, 24, "bird animal"),
    (25, 32, "amphibian animal"),
    (30, 32, "frog"),
    (33, 37, "turtle reptile animal"),
    (38, 48, "lizard reptile animal"),
    (49, 50, "crocodile reptile animal"),
    (51, 51, "dinosaur"),
    (52, 68, "snake reptile animal"),
    (70, 79, "bug animal"),
    (72, 77, "spider"),
    (80, 100, "bird animal"),
    (101, 101, "elephant animal"),
    (102, 106, "animal"),
    (107, 126, "sea animal"),
    (118, 125, "crab seafood"),
    (127, 146, "bird animal"),
    (147, 150, "sea animal"),
    (147, 148, "whale"),
    (151, 268, "dog animal pet"),
    (269, 280, "animal"),
    (269, 272, "wolf"),
    (277, 280, "fox"),
    (281, 285, "cat animal pet"),
    (286, 293, "big cat animal"),
    (294, 297, "bear animal"),
    (298, 299, "animal"),
    (300, 326, "insect bug animal"),
    (321, 326, "butterfly"),
    (327, 329, "sea animal"),
    (330, 332, "rabbit animal"),
    (333, 338, "animal"),
    (339, 339, "horse animal"),
    (340, 340, "zebra animal"),
    (341, 343, "pig animal"),
    (344, 344, "hippo animal"),
    (345, 347, "cattle cow animal"),
    (348, 350, "sheep goat animal"),
    (351, 353, "antelope animal"),
    (354, 355, "camel animal"),
    (356, 364, "animal"),
    (365, 384, "monkey animal"),
    (385, 386, "elephant animal"),
    (387, 388, "panda animal"),
    (389, 397, "fish animal"),
    (924, 969, "food"),
    (936, 957, "fruit vegetable"),
    (970, 980, "landscape nature"),
    (985, 986, "flower plant"),
    (991, 997, "mushroom"),
]

# Single classes (or groups) whose parents do not follow from where they sit.
_IMAGENET_GROUPS: dict[str, list[int]] = {
    "car vehicle": [407, 436, 468, 511, 609, 627, 656, 661, 717, 734, 751, 817],
    "truck vehicle": [555, 569, 675, 717, 864, 867],
    "bus vehicle": [654, 779, 874],
    "train vehicle": [466, 547, 565, 705, 820, 829],
    "bicycle": [444, 671, 870, 880],
    "motorcycle vehicle": [665, 670],
    "boat": [403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 914],
    "airplane aircraft": [404, 895, 908],
    "aircraft": [405],
    "rocket": [657, 744, 812],
    "building": [483, 497, 663, 668, 698, 832, 415, 424, 454, 467, 582, 788, 860, 865, 509],
    "church": [442, 497, 663],
    "castle": [483, 698],
    "shop storefront": [415, 424, 454, 467, 509, 582, 788, 860, 865],
    "restaurant": [762],
    "bridge": [821, 839, 888],
    "mountain": [970, 979, 980],
    "cliff": [972],
    "rocks": [972, 976],
    "sea": [973, 976, 977, 978],
    "beach": [977, 978],
    "lake": [975],
    "person": [981, 982, 983],
    "wedding": [982],
    "coffee drink": [504, 505, 550, 967],
    "cup": [504, 968],
    "drink": [966, 969, 440, 441, 907],
    "musical instrument": [
        401,
        402,
        420,
        432,
        486,
        513,
        541,
        546,
        558,
        566,
        577,
        579,
        593,
        594,
        641,
        642,
        683,
        684,
        687,
        699,
        776,
        822,
        875,
        889,
    ],
    "ball sport": [429, 430, 522, 574, 722, 768, 805, 852, 890],
    "computer": [527, 590, 620, 664],
    "phone": [487, 528, 707],
    "furniture": [423, 453, 493, 495, 520, 526, 532, 559, 564, 765, 831, 857, 894],
    "clothing": [399, 400, 474, 501, 568, 578, 601, 610, 614, 655, 697, 834, 841, 869],
    "snow": [537, 795, 802, 803],
    "christmas": [496],
    "halloween": [607],
}

# Where a class's first synonym would mislead (a kite here is a bird; a crane, a bird too).
_IMAGENET_NAMES = {21: "red kite", 134: "crane bird", 339: "sorrel horse", 517: "crane machine"}

# SSD-MobileNet COCO ids (the 90-id scheme of the TensorFlow model zoo) and their parents.
COCO: dict[int, str] = {
    1: "person", 2: "bicycle", 3: "car vehicle", 4: "motorcycle vehicle", 5: "airplane aircraft",
    6: "bus vehicle", 7: "train vehicle", 8: "truck vehicle", 9: "boat", 10: "traffic light",
    11: "fire hydrant", 13: "stop sign", 14: "parking meter", 15: "bench", 16: "bird animal",
    17: "cat animal pet", 18: "dog animal pet", 19: "horse animal", 20: "sheep animal",
    21: "cow animal", 22: "elephant animal", 23: "bear animal", 24: "zebra animal",
    25: "giraffe animal", 27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie",
    33: "suitcase", 34: "frisbee", 35: "skis snow", 36: "snowboard snow", 37: "ball sport",
    38: "kite", 39: "baseball bat sport", 40: "baseball glove sport", 41: "skateboard",
    42: "surfboard sea", 43: "tennis racket sport", 44: "bottle", 46: "wine glass drink",
    47: "cup", 48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana fruit food",
    53: "apple fruit food", 54: "sandwich food", 55: "orange fruit food",
    56: "broccoli vegetable food", 57: "carrot vegetable food", 58: "hot dog food",
    59: "pizza food", 60: "donut food", 61: "cake food", 62: "chair furniture",
    63: "couch furniture", 64: "plant", 65: "bed furniture", 67: "table furniture",
    70: "toilet", 72: "tv", 73: "laptop computer", 74: "mouse computer", 75: "remote",
    76: "keyboard computer", 77: "phone", 78: "microwave", 79: "oven", 80: "toaster",
    81: "sink", 82: "fridge", 84: "book", 85: "clock", 86: "vase", 87: "scissors",
    88: "teddy bear toy", 89: "hair drier", 90: "toothbrush",
}  # fmt: skip

_COCO_NAMES = {38: "kite", 37: "ball", 64: "potted plant", 72: "tv"}


_PAIRS = {
    "teddy bear", "traffic light", "fire hydrant", "stop sign", "parking meter", "wine glass",
    "hot dog", "baseball bat", "baseball glove", "tennis racket", "hair drier", "big cat",
    "sea animal", "musical instrument", "potted plant",
}  # fmt: skip


def imagenet_tags(index: int, label: str) -> list[str]:
    """The tags of an ImageNet class: its everyday name, then its parents."""
    name = _IMAGENET_NAMES.get(index) or label.split(",")[0].strip().lower()
    words = [name]
    for low, high, parents in _IMAGENET_RANGES:
        if low <= index <= high:
            words += _words(parents)
    for parents, members in _IMAGENET_GROUPS.items():
        if index in members:
            words += _words(parents)
    return _unique(words)


def coco_tags(class_id: int) -> list[str]:
    """The tags of a COCO detection: its name, then its parents ([] for an unknown id)."""
    entry = COCO.get(class_id)
    if entry is None:
        return []
    words = _words(entry)
    name = _COCO_NAMES.get(class_id, words[0])
    return _unique([name, *words])


def _words(entry: str) -> list[str]:
    """``"teddy bear toy"`` → teddy bear, toy: two-word names are kept whole."""
    parts = entry.split()
    words: list[str] = []
    n = 0
    while n < len(parts):
        pair = " ".join(parts[n : n + 2])
        if pair in _PAIRS:
            words.append(pair)
            n += 2
        else:
            words.append(parts[n])
            n += 1
    return words


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(word for word in words if word))
