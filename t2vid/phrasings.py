"""The wording of generated task questions: many phrasings per kind, in English and Chinese.

Data, not logic: tasks.py fills the placeholders. Every kind (and variant)
has at least eight phrasings per language so that generated turns add
instruction diversity rather than one template repeated. A format hint,
fixed per kind, follows the question so the short answer is checkable.
"""

from __future__ import annotations

PHRASINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "locate": {
        "en": (
            'In which frame does the phrase "{phrase}" appear?',
            'Which frame shows the words "{phrase}"?',
            'Find "{phrase}" in the video. Which frame is it on?',
            'The text "{phrase}" is written on one of the frames. Which one?',
            'On what frame can you read "{phrase}"?',
            'Locate the passage "{phrase}": which frame contains it?',
            'Where in the video is "{phrase}" shown? Give the frame.',
            'Which frame of the video contains the quote "{phrase}"?',
            'Tell me the frame where "{phrase}" appears.',
            'Point to the frame that displays "{phrase}".',
        ),
        "zh": (
            "短语“{phrase}”出现在第几帧？",
            "哪一帧显示了“{phrase}”这段文字？",
            "在视频中找到“{phrase}”，它在哪一帧？",
            "“{phrase}”写在其中一帧上，是哪一帧？",
            "你能在第几帧读到“{phrase}”？",
            "请定位“{phrase}”这段话：哪一帧包含它？",
            "视频的哪个画面出现了“{phrase}”？",
            "包含引文“{phrase}”的是视频的第几帧？",
            "告诉我“{phrase}”出现在哪一帧。",
            "指出显示“{phrase}”的那一帧。",
        ),
    },
    "order": {
        "en": (
            "Put these passages in the order they appear in the video:\n{passages}",
            "The following quotes come from different frames. In what order are they shown?\n{passages}",
            "Arrange the passages below in reading order:\n{passages}",
            "Which order do these excerpts appear in, from first to last?\n{passages}",
            "Sort these snippets by when they appear in the video:\n{passages}",
            "Each passage below is on a different frame. List them from earliest to latest:\n{passages}",
            "Reconstruct the sequence: in what order do these passages occur?\n{passages}",
            "Order the following quoted passages as they appear across the frames:\n{passages}",
            "These passages are shuffled. Give their order in the video:\n{passages}",
            "From first to last, how are these passages ordered in the video?\n{passages}",
        ),
        "zh": (
            "按照这些段落在视频中出现的先后排序：\n{passages}",
            "以下引文来自不同的帧，它们出现的顺序是什么？\n{passages}",
            "请把下面的段落按阅读顺序排列：\n{passages}",
            "这些摘录从先到后的顺序是怎样的？\n{passages}",
            "按在视频中出现的时间给这些片段排序：\n{passages}",
            "下面每段文字都在不同的帧上，请从最早到最晚列出：\n{passages}",
            "还原顺序：这些段落依次以什么顺序出现？\n{passages}",
            "将以下引用的段落按它们在各帧中出现的顺序排列：\n{passages}",
            "这些段落被打乱了，请给出它们在视频中的顺序：\n{passages}",
            "从第一个到最后一个，这些段落在视频中是怎样排列的？\n{passages}",
        ),
    },
    "next": {
        "en": (
            'What comes right after "{phrase}"?',
            'Continue the text: what follows "{phrase}"?',
            'Read on from "{phrase}". What are the next words?',
            'Which words come immediately after "{phrase}" in the video?',
            'After the phrase "{phrase}", what is written next?',
            'Find "{phrase}" and tell me what comes next.',
            'What text directly follows "{phrase}", even if it continues on the next frame?',
            'Keep reading after "{phrase}": what are the following words?',
            '"{phrase}" is followed by which words?',
            'Quote the words that come just after "{phrase}".',
        ),
        "zh": (
            "“{phrase}”后面紧接着的是什么？",
            "接着往下读：“{phrase}”之后是什么？",
            "从“{phrase}”继续读下去，接下来是哪些字？",
            "在视频中，紧跟在“{phrase}”后面的是哪些文字？",
            "在“{phrase}”这句之后，接着写的是什么？",
            "找到“{phrase}”，告诉我后面是什么。",
            "紧接在“{phrase}”之后的文字是什么？即使它延续到下一帧。",
            "读完“{phrase}”后继续读，后面的文字是什么？",
            "“{phrase}”后面跟着哪些字？",
            "引用紧跟在“{phrase}”后面的文字。",
        ),
    },
    "count": {
        "en": (
            'In how many frames does the word "{term}" appear?',
            'How many frames show the word "{term}"?',
            'Count the frames that contain "{term}".',
            'On how many different frames can you see "{term}"?',
            'The word "{term}" appears on several frames. How many?',
            'How many of the frames include the word "{term}"?',
            'Across the video, in how many frames is "{term}" written?',
            'Tell me the number of frames in which "{term}" occurs.',
            'Count how many frames the word "{term}" is visible on.',
            '"{term}" shows up on how many frames?',
        ),
        "zh": (
            "“{term}”一词出现在多少帧中？",
            "有多少帧显示了“{term}”？",
            "数一数包含“{term}”的帧有几帧。",
            "你能在多少个不同的帧上看到“{term}”？",
            "“{term}”出现在好几帧上，一共几帧？",
            "视频中有几帧包含“{term}”这个词？",
            "在整个视频里，“{term}”写在多少帧上？",
            "告诉我“{term}”出现的帧数。",
            "数一数“{term}”在几帧中可见。",
            "“{term}”在多少帧里出现过？",
        ),
    },
    "before_after": {
        "en": (
            'Does "{a}" appear before or after "{b}", and how many frames apart are they?',
            'Is the passage "{a}" shown before or after "{b}"? How many frames separate them?',
            'Compare "{a}" with "{b}": does the first come before or after the second, and by how many frames?',
            'Relative to "{b}", does "{a}" come before or after it in the video, and how many frames away?',
            'When is "{a}" shown compared with "{b}": before or after, and how many frames apart?',
            'Consider "{a}" and "{b}". Is the first before or after the second, and what is the frame distance?',
            'Does the video show "{a}" before or after "{b}", and how far apart are their frames?',
            'Is "{a}" before or after "{b}" in the video? Say how many frames apart.',
            'Order check: is "{a}" before or after "{b}", and how many frames apart?',
            'Tell me whether "{a}" is shown before or after "{b}", and the gap in frames.',
        ),
        "zh": (
            "“{a}”出现在“{b}”之前还是之后？相隔几帧？",
            "段落“{a}”是在“{b}”之前还是之后显示的？两者相隔多少帧？",
            "比较“{a}”和“{b}”：前者在后者之前还是之后，相差几帧？",
            "相对于“{b}”，“{a}”在视频中位于之前还是之后？相隔几帧？",
            "与“{b}”相比，“{a}”是在之前还是之后出现，相隔几帧？",
            "看“{a}”和“{b}”这两段：第一段在第二段之前还是之后？帧距是多少？",
            "视频中“{a}”在“{b}”之前还是之后？它们所在的帧相隔多远？",
            "“{a}”位于“{b}”之前还是之后？它们所在的帧相隔多少？",
            "顺序判断：“{a}”在“{b}”之前还是之后，相隔几帧？",
            "告诉我“{a}”是在“{b}”之前还是之后显示的，以及相差的帧数。",
        ),
    },
    "needle": {
        "en": (
            "What is {key}?",
            "One of the frames mentions {key}. What is it?",
            "The video states {key} somewhere. What number is it?",
            "Find {key} in the text. What is the value?",
            "According to the video, what is {key}?",
            "Somewhere in the frames, {key} is given. Tell me the number.",
            "Look for the sentence about {key}. Which number does it give?",
            "What number is given as {key}?",
            "Read through the frames: what is {key}?",
            "There is a fact about {key} in the video. What is the number?",
        ),
        "zh": (
            "{key}是多少？",
            "有一帧提到了{key}，它是多少？",
            "视频中某处给出了{key}，是哪个数字？",
            "在文本中找到{key}，它的值是什么？",
            "根据视频，{key}是多少？",
            "各帧中的某处给出了{key}，请告诉我这个数字。",
            "找到关于{key}的那句话，它给出的数字是什么？",
            "作为{key}给出的数字是多少？",
            "通读各帧：{key}是什么？",
            "视频中有一条关于{key}的信息，数字是多少？",
        ),
    },
    "needle_values": {
        "en": (
            "The video gives {key} several times, each with a different number. List all of them in order.",
            "What are all the numbers given as {key}, in the order they appear?",
            "Several frames state {key}. List every value, from first to last.",
            "More than one number is given for {key}. Give each of them in order of appearance.",
            "Find every sentence about {key} and list the numbers in order.",
            "List all values of {key} that appear in the video, in order.",
            "How is {key} given across the video? List all the numbers in order.",
            "Collect every number stated as {key}, in reading order.",
            "Which numbers does the text give for {key}? List them all in the order shown.",
            "Read all the frames and list each number given for {key}, first to last.",
        ),
        "zh": (
            "视频多次给出{key}，每次数字不同。请按顺序列出所有数字。",
            "作为{key}给出的所有数字依次是什么？",
            "有几帧提到了{key}，请从先到后列出每个值。",
            "{key}被提到了不止一次，请按出现顺序给出每个数字。",
            "找出所有关于{key}的句子，按顺序列出其中的数字。",
            "按顺序列出视频中出现的{key}的所有值。",
            "{key}在视频中是如何给出的？请按顺序列出所有数字。",
            "按阅读顺序收集作为{key}给出的每个数字。",
            "文中为{key}给出了哪些数字？请按出现的顺序全部列出。",
            "读完所有帧，从先到后列出为{key}给出的每个数字。",
        ),
    },
    "first": {
        "en": (
            "What is written on the first line of the first frame?",
            "Read the top line of the opening frame.",
            "What does the very first line of the video say?",
            "Quote the first line shown in frame 1.",
            "What text is at the top of the first frame?",
            "How does the video begin? Give the first line of the first frame.",
            "Which words open the video, on the first line of frame 1?",
            "Copy out the top line of the first frame.",
        ),
        "zh": (
            "第一帧的第一行写的是什么？",
            "读出开头那一帧最上面的一行。",
            "视频的第一行文字是什么？",
            "引用第1帧显示的第一行。",
            "第一帧顶部写着什么文字？",
            "视频是怎样开头的？请给出第一帧的第一行。",
            "视频开头第1帧第一行是哪些文字？",
            "抄写第一帧最上面的一行。",
        ),
    },
    "last": {
        "en": (
            "What is written on the last line of the last frame?",
            "Read the bottom line of the final frame.",
            "What does the very last line of the video say?",
            "Quote the last line shown in the final frame.",
            "What text is at the end of the last frame?",
            "How does the video end? Give the last line of the last frame.",
            "Which words close the video, on the last line of the final frame?",
            "Copy out the bottom line of the last frame.",
        ),
        "zh": (
            "最后一帧的最后一行写的是什么？",
            "读出最后那一帧最下面的一行。",
            "视频的最后一行文字是什么？",
            "引用最后一帧显示的最后一行。",
            "最后一帧末尾写着什么文字？",
            "视频是怎样结尾的？请给出最后一帧的最后一行。",
            "视频结尾最后一帧的最后一行是哪些文字？",
            "抄写最后一帧最下面的一行。",
        ),
    },
}

# The answer format asked for after each question (without --multiple-choice).
HINTS: dict[str, dict[str, str]] = {
    "locate": {"en": 'Answer as "Frame N", counting from 1.', "zh": "请按“第N帧”回答，从1开始计数。"},
    "locate_fps": {"en": 'Answer as "Frame N (MM:SS.ss)", counting from 1 at {fps} frames per second.', "zh": "请按“第N帧（MM:SS.ss）”回答，从1开始计数，每秒{fps}帧。"},
    "order": {"en": "Answer with the letters, separated by commas.", "zh": "请用字母回答，用逗号分隔。"},
    "next": {"en": "Give the next {n} words.", "zh": "请给出接下来的{n}个字。"},
    "count": {"en": "Answer with a number.", "zh": "请用数字回答。"},
    "before_after": {"en": 'Answer as "before, N frames apart" or "after, N frames apart".', "zh": "请按“之前，相隔N帧”或“之后，相隔N帧”回答。"},
    "needle": {"en": "Answer with the number.", "zh": "请用数字回答。"},
    "needle_values": {"en": "Answer with the numbers, separated by commas.", "zh": "请用数字回答，用逗号分隔。"},
    "first": {"en": "Give the line exactly as written.", "zh": "请照原样给出这一行。"},
    "last": {"en": "Give the line exactly as written.", "zh": "请照原样给出这一行。"},
}

CHOICE_HEAD = {"en": "Options:", "zh": "选项："}
CHOICE_HINT = {"en": "Answer with the letter of the correct option.", "zh": "请用正确选项的字母回答。"}
QUOTES = {"en": ('"', '"'), "zh": ("“", "”")}

# Synthetic facts for the needle kind: "The {attribute} of the {qualifier} {place} is {value}."
NEEDLE_WORDS = {
    "en": {
        "attribute": ("access code", "room number", "serial number", "locker number", "pass number", "ticket number", "lot number", "badge number"),
        "qualifier": ("north", "south", "east", "west", "red", "blue", "green", "old", "upper", "lower"),
        "place": ("gate", "tower", "bridge", "garden", "library", "harbour", "station", "warehouse", "lighthouse", "orchard"),
    },
    "zh": {
        "attribute": ("门禁密码", "房间号", "序列号", "储物柜号码", "通行码", "票号", "批号", "工牌号"),
        "qualifier": ("北", "南", "东", "西", "红色", "蓝色", "绿色", "旧", "上", "下"),
        "place": ("门", "塔", "桥", "花园", "图书馆", "码头", "车站", "仓库", "灯塔", "果园"),
    },
}
NEEDLE_KEY = {"en": "the {attribute} of the {qualifier} {place}", "zh": "{qualifier}{place}的{attribute}"}
NEEDLE_FACT = {"en": "The {attribute} of the {qualifier} {place} is {value}.", "zh": "{qualifier}{place}的{attribute}是{value}。"}
NEEDLE_VALUE_FACT = {"en": "One {attribute} of the {qualifier} {place} is {value}.", "zh": "{qualifier}{place}的{attribute}之一是{value}。"}
