import { invalidInput } from './metrics.exception';
import { pythonSplit, pythonStrip } from './python-split';

// A port of the official VQA evaluation (GT-Vision-Lab/VQA, PythonEvaluationTools/
// vqaEvaluation/vqaEval.py), quirks included, because matching the published numbers is
// the point of the metric.

const CONTRACTIONS: Record<string, string> = {
  aint: "ain't",
  arent: "aren't",
  cant: "can't",
  couldve: "could've",
  couldnt: "couldn't",
  "couldn'tve": "couldn't've",
  "couldnt've": "couldn't've",
  didnt: "didn't",
  doesnt: "doesn't",
  dont: "don't",
  hadnt: "hadn't",
  "hadnt've": "hadn't've",
  "hadn'tve": "hadn't've",
  hasnt: "hasn't",
  havent: "haven't",
  hed: "he'd",
  "hed've": "he'd've",
  "he'dve": "he'd've",
  hes: "he's",
  howd: "how'd",
  howll: "how'll",
  hows: "how's",
  "Id've": "I'd've",
  "I'dve": "I'd've",
  Im: "I'm",
  Ive: "I've",
  isnt: "isn't",
  itd: "it'd",
  "itd've": "it'd've",
  "it'dve": "it'd've",
  itll: "it'll",
  "let's": "let's",
  maam: "ma'am",
  mightnt: "mightn't",
  "mightnt've": "mightn't've",
  "mightn'tve": "mightn't've",
  mightve: "might've",
  mustnt: "mustn't",
  mustve: "must've",
  neednt: "needn't",
  notve: "not've",
  oclock: "o'clock",
  oughtnt: "oughtn't",
  "ow's'at": "'ow's'at",
  "'ows'at": "'ow's'at",
  "'ow'sat": "'ow's'at",
  shant: "shan't",
  "shed've": "she'd've",
  "she'dve": "she'd've",
  "she's": "she's",
  shouldve: "should've",
  shouldnt: "shouldn't",
  "shouldnt've": "shouldn't've",
  "shouldn'tve": "shouldn't've",
  "somebody'd": 'somebodyd',
  "somebodyd've": "somebody'd've",
  "somebody'dve": "somebody'd've",
  somebodyll: "somebody'll",
  somebodys: "somebody's",
  someoned: "someone'd",
  "someoned've": "someone'd've",
  "someone'dve": "someone'd've",
  someonell: "someone'll",
  someones: "someone's",
  somethingd: "something'd",
  "somethingd've": "something'd've",
  "something'dve": "something'd've",
  somethingll: "something'll",
  thats: "that's",
  thered: "there'd",
  "thered've": "there'd've",
  "there'dve": "there'd've",
  therere: "there're",
  theres: "there's",
  theyd: "they'd",
  "theyd've": "they'd've",
  "they'dve": "they'd've",
  theyll: "they'll",
  theyre: "they're",
  theyve: "they've",
  twas: "'twas",
  wasnt: "wasn't",
  "wed've": "we'd've",
  "we'dve": "we'd've",
  weve: "we've",
  werent: "weren't",
  whatll: "what'll",
  whatre: "what're",
  whats: "what's",
  whatve: "what've",
  whens: "when's",
  whered: "where'd",
  wheres: "where's",
  whereve: "where've",
  whod: "who'd",
  "whod've": "who'd've",
  "who'dve": "who'd've",
  wholl: "who'll",
  whos: "who's",
  whove: "who've",
  whyll: "why'll",
  whyre: "why're",
  whys: "why's",
  wont: "won't",
  wouldve: "would've",
  wouldnt: "wouldn't",
  "wouldnt've": "wouldn't've",
  "wouldn'tve": "wouldn't've",
  yall: "y'all",
  "yall'll": "y'all'll",
  "y'allll": "y'all'll",
  "yall'd've": "y'all'd've",
  "y'alld've": "y'all'd've",
  "y'all'dve": "y'all'd've",
  youd: "you'd",
  "youd've": "you'd've",
  "you'dve": "you'd've",
  youll: "you'll",
  youre: "you're",
  youve: "you've",
};

const MANUAL_MAP: Record<string, string> = {
  none: '0',
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
};
const ARTICLES = new Set(['a', 'an', 'the']);
const PUNCT = [';', '/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!'];
const COMMA_STRIP = /(\d)(,)(\d)/;
/** `(?!<=\d)` was meant as a look-behind; it is a look-ahead that never matches before a '.', so any period not followed by a digit goes. */
const PERIOD_STRIP = /(?!<=\d)(\.)(?!\d)/g;
/** The script passes re.UNICODE (32) as re.sub's count, so at most 32 periods go. */
const PERIOD_STRIP_COUNT = 32;

export function vqaProcessPunctuation(inText: string): string {
  let out = inText;
  const commaBetweenDigits = COMMA_STRIP.test(inText);
  for (const p of PUNCT) {
    if (inText.includes(p + ' ') || inText.includes(' ' + p) || commaBetweenDigits) out = out.split(p).join('');
    else out = out.split(p).join(' ');
  }
  let n = 0;
  return out.replace(PERIOD_STRIP, (m) => (n++ < PERIOD_STRIP_COUNT ? '' : m));
}

export function vqaProcessDigitArticle(inText: string): string {
  const words = pythonSplit(inText.toLowerCase())
    .map((w) => MANUAL_MAP[w] ?? w)
    .filter((w) => !ARTICLES.has(w));
  return words.map((w) => CONTRACTIONS[w] ?? w).join(' ');
}

/** The script's first step on every answer, human or predicted: newlines and tabs to spaces, then strip. */
function cleanVqaAnswer(answer: string): string {
  return pythonStrip(answer.replace(/\n/g, ' ').replace(/\t/g, ' '));
}

/** The full normalization the script applies to both sides when the human answers differ. */
export function normalizeVqaAnswer(answer: string): string {
  return vqaProcessDigitArticle(vqaProcessPunctuation(cleanVqaAnswer(answer)));
}

/**
 * VQA accuracy of one predicted answer against the human answers (10 in VQA v2): for each
 * human answer left out, min(1, matches among the others / 3), averaged. As the current
 * official script (commit a013f00, 2021-03-11, "Fixed processing answers bug"): every answer
 * is cleaned of newlines, tabs and surrounding spaces; then, only when the human answers are
 * not all the same, both sides get the punctuation and digit/article processing; when they
 * are all the same, neither does (so "Two" does not match ten "2"s). The 2016 revision always
 * processed the prediction and gave the human answers only the punctuation step.
 */
export function vqaAccuracy(prediction: string, humanAnswers: string[]): number {
  if (humanAnswers.length === 0) throw invalidInput('vqaAccuracy needs at least one human answer', 'humanAnswers');
  let gts = humanAnswers.map(cleanVqaAnswer);
  let res = cleanVqaAnswer(prediction);
  if (new Set(gts).size > 1) {
    gts = gts.map((a) => vqaProcessDigitArticle(vqaProcessPunctuation(a)));
    res = vqaProcessDigitArticle(vqaProcessPunctuation(res));
  }
  let sum = 0;
  for (let i = 0; i < gts.length; i++) {
    let matches = 0;
    for (let j = 0; j < gts.length; j++) if (j !== i && gts[j] === res) matches++;
    sum += Math.min(1, matches / 3);
  }
  return sum / gts.length;
}

/** Mean VQA accuracy over questions, in 0..1 (the script reports 100× this, rounded). */
export function meanVqaAccuracy(items: { prediction: string; humanAnswers: string[] }[]): number {
  if (items.length === 0) throw invalidInput('meanVqaAccuracy needs at least one question', 'items');
  return items.reduce((s, it) => s + vqaAccuracy(it.prediction, it.humanAnswers), 0) / items.length;
}
