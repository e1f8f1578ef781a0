/**
 * What the skeletons promise about error messages: a RangeError names the option or argument
 * at fault. Learners write it as they like ("significantFigures", "significant figures",
 * "SignificantFigures must be..."), so the tests look for the name's words, in any case, with
 * or without spaces, dots or dashes between them.
 */
export function mentions(name: string): RegExp {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s.]+/)
    .filter(Boolean)
    .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(words.join("[\\s._-]*"), "i");
}
