import { loadCourse } from "../course/load";
import type { Course } from "../course/model";
import { findCourseRoot } from "../root";
import { createStyle, type Style } from "../report/style";

/** What every command needs: the course, where to print, and how. */
export interface CommandContext {
  course: Course;
  style: Style;
  out: (text: string) => void;
  err: (text: string) => void;
}

export function createContext(): CommandContext {
  const root = findCourseRoot();
  return {
    course: loadCourse(root),
    style: createStyle(),
    out: (text) => process.stdout.write(text + "\n"),
    err: (text) => process.stderr.write(text + "\n"),
  };
}
